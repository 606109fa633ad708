// docs/behaviour.md §3 and §5.9, RFC 8705 §2.1 tls_client_auth (PKI): on the TLS listener an app
// registered with --mtls-subject-dn authenticates with a certificate that chained to
// --tls-client-ca and carries that subject DN; its access tokens are bound to the certificate
// presented (cnf.x5t#S256), like self_signed_tls_client_auth. A matching subject from a CA we
// do not trust, another subject from our CA, an expired certificate, or a secret alongside the
// certificate are all refused. RFC 9068 JWT access tokens of bound apps carry the binding
// (RFC 8705 §3.1 cnf), checked with jose against the JWKS. Node's https module is the client;
// the CA is `openssl ca`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { rm } from 'node:fs/promises';
import { startWorld, makeTempDir, run, cli } from './lib/server.js';
import { makeCa, makeCert, issueCert } from './lib/keys.js';
import { form, formHeaders, introspectOverTls, tlsBaseOf, tlsRequest, x5t } from './lib/tls.js';
import {
  assertInvalidSession, assertTokenError, assertTokenSuccess, callApi, show, tokenRequest,
} from './lib/oauth.js';

const TOKEN = '/services/oauth2/token';
const SUBJECT = 'CN=pki-client,O=Example Corp';  // openssl -subj '/O=Example Corp/CN=pki-client'

describe('mutual TLS with CA-issued certificates (RFC 8705 §2.1 tls_client_auth)', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let keyDir;
  let server;    // TLS server certificate
  let ca;        // --tls-client-ca
  let client;    // issued by ca for SUBJECT: the app's credential
  let renewed;   // issued by ca for SUBJECT with a new key
  let otherDn;   // issued by ca for another subject
  let expired;   // issued by ca for SUBJECT, long expired
  let rogue;     // issued for SUBJECT by a CA the server does not trust
  let selfDn;    // self-signed, with SUBJECT
  let tlsBase;

  const as = (c) => ({ cert: c?.certPem, key: c?.keyPem, ca: server.certPem });
  const ccToken = (app, c, extra = {}) => tlsRequest(tlsBase + TOKEN, {
    method: 'POST', headers: formHeaders,
    body: form({ grant_type: 'client_credentials', client_id: app.client_id, ...extra }), ...as(c),
  });

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-pki-');
    const subj = '/O=Example Corp/CN=pki-client';
    let rogueCa;
    [server, ca, rogueCa, selfDn] = await Promise.all([
      makeCert(keyDir, 'server', { type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' }),
      makeCa(keyDir, 'ca'),
      makeCa(keyDir, 'rogue-ca'),
      makeCert(keyDir, 'self-dn', { subj }),
    ]);
    // One at a time per CA: `openssl ca` rewrites its serial and index files.
    client = await issueCert(keyDir, 'client', ca, { subj });
    renewed = await issueCert(keyDir, 'renewed', ca, { subj, type: 'ec' });
    otherDn = await issueCert(keyDir, 'other-dn', ca, { subj: '/O=Example Corp/CN=someone-else' });
    expired = await issueCert(keyDir, 'expired', ca, { subj, startdate: '20200101000000Z', enddate: '20200102000000Z' });
    rogue = await issueCert(keyDir, 'rogue', rogueCa, { subj });
    world = await startWorld({
      users: { svc: { username: 'svc@localhost', name: 'Service User', email: 'svc@localhost' } },
      apps: {
        // Registered in another spelling of the same DN: stored normalized.
        pki: { scopes: 'api openid profile', extra: ['--mtls-subject-dn', 'cn=pki-client, o=Example Corp', '--client-credentials-user', 'svc@localhost'] },
        jwtPki: { scopes: 'api openid', extra: ['--mtls-subject-dn', SUBJECT, '--token-format', 'jwt', '--client-credentials-user', 'svc@localhost'] },
        jwtSelf: { scopes: 'api openid', extra: ['--mtls-cert', selfDn.certPath, '--token-format', 'jwt', '--client-credentials-user', 'svc@localhost'] },
      },
      serve: {
        extraArgs: ['--tls-listen', '127.0.0.1:0', '--tls-cert', server.certPath, '--tls-key', server.keyPath,
          '--tls-client-ca', ca.certPath],
      },
    });
    tlsBase = tlsBaseOf(world.logs());
  });

  after(async () => {
    await world?.stop();
    if (keyDir && !process.env.E2E_KEEP_TMP) await rm(keyDir, { recursive: true, force: true });
  });

  it('app show and app list print the registered subject DN in its normal form', async () => {
    const shown = await cli(world.db, ['app', 'show', '--client-id', world.apps.pki.client_id]);
    assert.equal(shown.mtls_subject_dn, SUBJECT);
    const listed = await cli(world.db, ['app', 'list']);
    assert.equal(listed.apps.find((a) => a.client_id === world.apps.pki.client_id).mtls_subject_dn, SUBJECT);
  });

  it('a chained certificate with the registered subject gets a token bound to it; the token works only with that certificate', async () => {
    const app = world.apps.pki;
    const body = assertTokenSuccess(await ccToken(app, client));
    const at = body.access_token;

    const intro = await introspectOverTls(tlsBase, app.client_id, at, as(client));
    assert.equal(intro.status, 200, show(intro));
    assert.equal(intro.json.active, true, show(intro));
    assert.deepEqual(intro.json.cnf, { 'x5t#S256': x5t(client.certPem) }, show(intro));

    const auth = { authorization: `Bearer ${at}`, accept: 'application/json' };
    const ok = await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(client) });
    assert.equal(ok.status, 200, show(ok));
    assert.equal(ok.json.preferred_username, 'svc@localhost', show(ok));
    // Same subject, same CA, another certificate: still not the one the token is bound to.
    assertInvalidSession(await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(renewed) }),
      'bound token with another certificate of the same subject:');
    assertInvalidSession(await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(null) }),
      'bound token without a certificate:');
    assertInvalidSession(await callApi(`${world.issuer}/services/oauth2/userinfo`, at),
      'bound token over the plain listener:');
  });

  it('a renewed certificate (new key, same subject, same CA) authenticates and binds tokens to itself', async () => {
    const body = assertTokenSuccess(await ccToken(world.apps.pki, renewed));
    const intro = await introspectOverTls(tlsBase, world.apps.pki.client_id, body.access_token, as(renewed));
    assert.deepEqual(intro.json?.cnf, { 'x5t#S256': x5t(renewed.certPem) }, show(intro));
  });

  it('the registered subject in a certificate that does not chain to --tls-client-ca is invalid_client', async () => {
    assertTokenError(await ccToken(world.apps.pki, rogue), 'invalid_client');
    assertTokenError(await ccToken(world.apps.pki, selfDn), 'invalid_client');
  });

  it('a chained certificate with another subject is invalid_client', async () => {
    assertTokenError(await ccToken(world.apps.pki, otherDn), 'invalid_client');
  });

  it('an expired chained certificate is invalid_client', async () => {
    assertTokenError(await ccToken(world.apps.pki, expired), 'invalid_client');
  });

  it('revocation checks the chain and subject as the token endpoint does (RFC 7009 §2.1)', async () => {
    const app = world.apps.pki;
    const at = assertTokenSuccess(await ccToken(app, client)).access_token;
    const revoke = (c) => tlsRequest(`${tlsBase}/services/oauth2/revoke`, {
      method: 'POST', headers: formHeaders, body: form({ client_id: app.client_id, token: at }), ...as(c),
    });
    const active = async () => (await introspectOverTls(tlsBase, app.client_id, at, as(client))).json?.active;
    for (const [c, what] of [[rogue, 'an untrusted CA'], [otherDn, 'another subject'], [expired, 'an expired certificate']]) {
      assertTokenError(await revoke(c), 'invalid_client');
      assert.equal(await active(), true, `a revocation with ${what} must revoke nothing`);
    }
    assert.equal((await revoke(renewed)).status, 200);
    assert.equal(await active(), false, 'a chained certificate with the registered subject revokes');
  });

  it('no certificate is no credential: invalid_client', async () => {
    assertTokenError(await ccToken(world.apps.pki, null), 'invalid_client');
  });

  it('certificate plus client secret is two methods: invalid_request', async () => {
    const app = world.apps.pki;
    assert.equal(app.client_secret, undefined);  // tls_client_auth only: no secret was issued
    assertTokenError(await ccToken(app, client, {client_secret: 'some-secret'}), 'invalid_request');
  });

  it('JWT access tokens of certificate-bound apps carry cnf.x5t#S256 of the certificate (RFC 8705 §3.1), verified against the JWKS', async () => {
    const jwks = createRemoteJWKSet(new URL(`${world.issuer}/id/keys`));
    const verify = (at) => jwtVerify(at, jwks, { issuer: world.issuer, audience: world.issuer, typ: 'at+jwt', algorithms: ['RS256'] });
    for (const [app, cert, method] of [[world.apps.jwtPki, client, 'tls_client_auth'], [world.apps.jwtSelf, selfDn, 'self_signed_tls_client_auth']]) {
      const body = assertTokenSuccess(await ccToken(app, cert));
      const { payload } = await verify(body.access_token);
      assert.equal(payload.client_id, app.client_id, method);
      assert.deepEqual(payload.cnf, { 'x5t#S256': x5t(cert.certPem) }, `${method}: ${JSON.stringify(payload)}`);
      // The JWT is bound at latchkey's own endpoints too.
      const auth = { authorization: `Bearer ${body.access_token}`, accept: 'application/json' };
      assert.equal((await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(cert) })).status, 200, method);
      assertInvalidSession(await callApi(`${world.issuer}/services/oauth2/userinfo`, body.access_token), `${method} JWT over the plain listener:`);
    }
    // Nor can such an app get an unbound JWT with a secret: it has none, and any is refused.
    const app = world.apps.jwtSelf;
    assert.equal(app.client_secret, undefined);
    assertTokenError(
        await tokenRequest(
            world.issuer, {grant_type: 'client_credentials'},
            {basic: [app.client_id, 'some-secret']}),
        'invalid_client', {status: 401});
  });

  it('app create refuses --mtls-cert with --mtls-subject-dn, and a malformed DN, with a clear message', async () => {
    const both = await run(['--db', world.db, 'app', 'create', '--name', 'both', '--mtls-cert', selfDn.certPath,
      '--mtls-subject-dn', SUBJECT]);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--mtls-cert .*--mtls-subject-dn.*not both/, both.stderr);
    assert.equal(both.stdout.trim(), '');
    const bad = await run(['--db', world.db, 'app', 'create', '--name', 'bad', '--mtls-subject-dn', 'pki-client']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--mtls-subject-dn is not an RFC 4514 distinguished name/, bad.stderr);
    const names = (await cli(world.db, ['app', 'list'])).apps.map((a) => a.name);
    assert.ok(!names.includes('both') && !names.includes('bad'), `refused apps were stored: ${names}`);
  });
});
