// openid-client (v6) as an RFC 8705 mutual-TLS client: it discovers the server over https
// (the issuer is the TLS listener; the test CA is trusted) and authenticates at the token
// endpoint with its certificate, through openid-client's customFetch hook with undici's fetch
// and an undici Agent that holds the client certificate and key. Both methods are used:
// tls_client_auth (certificate issued by --tls-client-ca, matched by subject DN) and
// self_signed_tls_client_auth (matched by thumbprint). The token is bound to the certificate:
// introspection shows cnf.x5t#S256 and userinfo answers only over a connection made with that
// certificate. The Agent's connector records each connection's TLS protocol and cipher.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import * as client from 'openid-client';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { startWorld, makeTempDir, freePort } from './lib/server.js';
import { makeCa, makeCert, issueCert } from './lib/keys.js';
import { x5t } from './lib/tls.js';

const SUBJECT = 'CN=oidc-client,O=Example';
// TLS 1.3 suites, and the TLS 1.2 suites the server allows (ECDHE with an AEAD).
const AEAD_SUITE = /^(TLS_AES_(128|256)_GCM_SHA(256|384)|TLS_CHACHA20_POLY1305_SHA256|ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$/;

/**
 * A fetch for openid-client's customFetch that goes through an undici Agent presenting `cert`
 * (PEM, or nothing) and trusting `ca`. Every new TLS connection is recorded in `connections`
 * as {protocol, cipher, authorized} by wrapping undici's own connector.
 */
function mtlsFetch({ cert, key, ca }) {
  const connections = [];
  const connector = buildConnector({ cert, key, ca });
  const agent = new Agent({
    connect(options, callback) {
      connector(options, (err, socket) => {
        if (!err) {
          connections.push({ protocol: socket.getProtocol(), cipher: socket.getCipher()?.name, authorized: socket.authorized });
        }
        callback(err, socket);
      });
    },
  });
  const fetch = (url, options) => undiciFetch(url, { ...options, dispatcher: agent });
  return { fetch, agent, connections };
}

/** The HTTP status an openid-client error carries, wherever this version keeps it. */
function statusOf(e) {
  return e?.status ?? e?.response?.status ?? e?.cause?.status;
}

describe('openid-client over mutual TLS with undici (RFC 8705)', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let keyDir;
  let server;
  let issued;      // issued by the CA for SUBJECT (tls_client_auth)
  let selfSigned;  // the self-signed app's --mtls-cert
  let stranger;    // a self-signed certificate nobody registered
  let issuer;
  const agents = [];

  const withCert = (c) => {
    const f = mtlsFetch({ cert: c?.certPem, key: c?.keyPem, ca: server.certPem });
    agents.push(f.agent);
    return f;
  };
  const configFor = async (app, c) => {
    const f = withCert(c);
    const config = await client.discovery(new URL(issuer), app.client_id,
      { use_mtls_endpoint_aliases: true }, client.TlsClientAuth(), { [client.customFetch]: f.fetch });
    return { config, connections: f.connections };
  };

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-oidc-mtls-');
    let ca;
    [server, ca, selfSigned, stranger] = await Promise.all([
      makeCert(keyDir, 'server', { type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' }),
      makeCa(keyDir, 'ca'),
      makeCert(keyDir, 'self', { type: 'ec' }),
      makeCert(keyDir, 'stranger'),
    ]);
    issued = await issueCert(keyDir, 'issued', ca, { subj: '/O=Example/CN=oidc-client' });
    // The issuer is the TLS listener itself, so discovery over https finds its own issuer.
    const port = await freePort();
    issuer = `https://127.0.0.1:${port}`;
    world = await startWorld({
      users: { svc: { username: 'svc@localhost', name: 'Service User', email: 'svc@localhost' } },
      apps: {
        pki: { scopes: 'api openid profile', extra: ['--mtls-subject-dn', SUBJECT, '--client-credentials-user', 'svc@localhost'] },
        self: { scopes: 'api openid profile', extra: ['--mtls-cert', selfSigned.certPath, '--client-credentials-user', 'svc@localhost'] },
      },
      serve: {
        extraArgs: ['--issuer', issuer, '--tls-listen', `127.0.0.1:${port}`, '--tls-cert', server.certPath,
          '--tls-key', server.keyPath, '--tls-client-ca', ca.certPath],
      },
    });
    assert.equal(world.issuer, issuer);
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await world?.stop();
    if (keyDir && !process.env.E2E_KEEP_TMP) await rm(keyDir, { recursive: true, force: true });
  });

  it('discovers over https with the client certificate; the connection is TLS 1.2 or 1.3 with an AEAD suite', async (t) => {
    const { config, connections } = await configFor(world.apps.pki, issued);
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, issuer);
    assert.equal(meta.tls_client_certificate_bound_access_tokens, true);
    for (const m of ['tls_client_auth', 'self_signed_tls_client_auth']) {
      assert.ok(meta.token_endpoint_auth_methods_supported.includes(m), m);
    }
    assert.equal(meta.mtls_endpoint_aliases.token_endpoint, `${issuer}/services/oauth2/token`);
    assert.ok(connections.length >= 1, 'the undici connector saw the connection');
    for (const c of connections) {
      assert.ok(['TLSv1.2', 'TLSv1.3'].includes(c.protocol), JSON.stringify(c));
      assert.match(c.cipher, AEAD_SUITE, JSON.stringify(c));
      assert.equal(c.authorized, true, 'the server certificate is trusted through the test CA');
    }
    t.diagnostic(`undici negotiated ${connections[0].protocol} ${connections[0].cipher}`);
  });

  for (const [method, appKey, certOf] of [
    ['tls_client_auth', 'pki', () => issued],
    ['self_signed_tls_client_auth', 'self', () => selfSigned],
  ]) {
    it(`${method}: client credentials give a token bound to the certificate; userinfo works only with it`, async (t) => {
      const app = world.apps[appKey];
      const cert = certOf();
      const { config, connections } = await configFor(app, cert);
      const tokens = await client.clientCredentialsGrant(config, { scope: 'api openid profile' });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.access_token);

      const intro = await client.tokenIntrospection(config, tokens.access_token);
      assert.equal(intro.active, true, JSON.stringify(intro));
      assert.equal(intro.client_id, app.client_id);
      assert.deepEqual(intro.cnf, { 'x5t#S256': x5t(cert.certPem) }, JSON.stringify(intro));

      const info = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
      assert.equal(info.preferred_username, 'svc@localhost');

      // Same token, other connections: another certificate, or none at all.
      for (const [what, other] of [['another certificate', stranger], ['no certificate', null]]) {
        const { config: otherConfig } = await configFor(app, other);
        await assert.rejects(client.fetchUserInfo(otherConfig, tokens.access_token, client.skipSubjectCheck),
          (e) => statusOf(e) === 401, `userinfo with ${what} must be refused with 401`);
      }
      for (const c of connections) {
        assert.ok(['TLSv1.2', 'TLSv1.3'].includes(c.protocol), JSON.stringify(c));
        assert.match(c.cipher, AEAD_SUITE, JSON.stringify(c));
      }
      t.diagnostic(`${method}: ${connections.map((c) => `${c.protocol} ${c.cipher}`).join(', ')}`);
    });
  }

  it('tls_client_auth with a certificate that neither chains to the CA nor has the subject is invalid_client', async () => {
    // Certificates with the registered subject from another issuer are covered by mtls-pki.test.js.
    const { config } = await configFor(world.apps.pki, selfSigned);
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'api' }),
      (e) => e?.error === 'invalid_client' || e?.cause?.error === 'invalid_client', 'invalid_client');
  });
});
