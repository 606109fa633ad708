// docs/behaviour.md §3 (serve --tls-listen), §5.9 and §7: RFC 8705 mutual TLS. On the TLS listener an app
// registered with --mtls-cert authenticates with that self-signed certificate
// (self_signed_tls_client_auth, matched by SHA-256 thumbprint, no CA needed), and its access
// tokens are bound to it (cnf.x5t#S256): a bound token used without that certificate, with
// another one, or over the plain listener gets 401 INVALID_SESSION_ID. Revocation and
// introspection authenticate the certificate as the token endpoint does. Also the TLS policy
// (1.2 minimum) seen by `openssl s_client`, discovery's mtls_endpoint_aliases (and
// --tls-issuer), start-up errors and the certificate reload on SIGHUP. Node's https module
// acts as the client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, startServer, makeTempDir, run } from './lib/server.js';
import { makeCert, makeCertWithDates } from './lib/keys.js';
import { form, formHeaders, introspectOverTls, tlsBaseOf, tlsRequest, x5t } from './lib/tls.js';
import {
  assertInvalidSession, assertTokenError, assertTokenSuccess, callApi, httpGet, show, sleep,
} from './lib/oauth.js';

const TOKEN = '/services/oauth2/token';
const execFileP = promisify(execFile);
const GRANT = 'client_credentials';

async function waitFor(cond, what, ms = 5000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs `openssl s_client` against host:port with extra args; resolves {code, out}. */
function sClient(hostPort, args) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', hostPort, ...args],
      { timeout: 15000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` });
      });
    // s_client may exit (a refused handshake) before its stdin is closed: EPIPE there is expected.
    child.stdin.on('error', () => {});
    child.stdin.end('');
  });
}

describe('mutual TLS (RFC 8705)', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let keyDir;
  let server;   // TLS server certificate
  let client;   // the app's registered --mtls-cert
  let peerCert; // registered by another app (peer)
  let other;    // a self-signed certificate nobody registered
  let expired;  // registered for its own app, but long expired
  let tlsBase;

  const as = (c) => ({ cert: c?.certPem, key: c?.keyPem, ca: server.certPem });
  const ccToken = (app, c, extra = {}) => tlsRequest(tlsBase + TOKEN, {
    method: 'POST', headers: formHeaders, body: form({ grant_type: GRANT, client_id: app.client_id, ...extra }), ...as(c),
  });
  const revokeOverTls = (clientId, token, c) => tlsRequest(`${tlsBase}/services/oauth2/revoke`, {
    method: 'POST', headers: formHeaders, body: form({ client_id: clientId, token }), ...as(c),
  });

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-mtls-');
    [server, client, peerCert, other, expired] = await Promise.all([
      makeCert(keyDir, 'server', { type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' }),
      makeCert(keyDir, 'client'),
      makeCert(keyDir, 'peer', { type: 'ec' }),
      makeCert(keyDir, 'other', { type: 'ec' }),
      makeCertWithDates(keyDir, 'expired', { startdate: '20200101000000Z', enddate: '20200102000000Z' }),
    ]);
    await copyFile(server.certPath, path.join(keyDir, 'live.crt'));
    await copyFile(server.keyPath, path.join(keyDir, 'live.key'));
    world = await startWorld({
      users: { svc: { username: 'svc@localhost', name: 'Service User', email: 'svc@localhost' } },
      apps: {
        mtls: { scopes: 'api openid profile refresh_token', extra: ['--mtls-cert', client.certPath, '--client-credentials-user', 'svc@localhost'] },
        peer: { scopes: 'api', extra: ['--mtls-cert', peerCert.certPath, '--client-credentials-user', 'svc@localhost'] },
        old: { scopes: 'api', extra: ['--mtls-cert', expired.certPath, '--client-credentials-user', 'svc@localhost'] },
        plain: { scopes: 'api openid', extra: ['--client-credentials-user', 'svc@localhost'] },
      },
      serve: {
        extraArgs: ['--tls-listen', '127.0.0.1:0', '--tls-cert', path.join(keyDir, 'live.crt'),
          '--tls-key', path.join(keyDir, 'live.key')],
      },
    });
    tlsBase = tlsBaseOf(world.logs());
  });

  after(async () => {
    await world?.stop();
    if (keyDir && !process.env.E2E_KEEP_TMP) await rm(keyDir, { recursive: true, force: true });
  });

  it('client credentials over mTLS issue a token bound to the certificate; it works only with that certificate', async () => {
    const app = world.apps.mtls;
    const r = await ccToken(app, client);
    const body = assertTokenSuccess(r);
    assert.equal(body.token_type, 'Bearer', show(r));
    assert.ok(!('refresh_token' in body), 'client credentials must not return a refresh token');
    const at = body.access_token;

    // Introspection (client-authenticated by the same certificate) shows the binding.
    const intro = await introspectOverTls(tlsBase, app.client_id, at, as(client));
    assert.equal(intro.status, 200, show(intro));
    assert.equal(intro.json.active, true, show(intro));
    assert.deepEqual(intro.json.cnf, { 'x5t#S256': x5t(client.certPem) }, show(intro));

    const auth = { authorization: `Bearer ${at}`, accept: 'application/json' };
    const ok = await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(client) });
    assert.equal(ok.status, 200, show(ok));
    assert.equal(ok.json.preferred_username, 'svc@localhost', show(ok));
    const data = await tlsRequest(`${tlsBase}/services/data/v62.0/`, { headers: auth, ...as(client) });
    assert.notEqual(data.status, 401, `bound token with its certificate at /services/data: ${show(data)}`);

    assertInvalidSession(await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(null) }),
      'bound token without a client certificate:');
    assertInvalidSession(await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(other) }),
      'bound token with another certificate:');
    assertInvalidSession(await callApi(`${world.issuer}/services/oauth2/userinfo`, at),
      'bound token over the plain listener:');
    assertInvalidSession(await tlsRequest(`${tlsBase}${new URL(body.id).pathname}`, { headers: auth, ...as(other) }),
      'bound token at the identity URL with another certificate:');
    assertInvalidSession(await tlsRequest(`${tlsBase}/services/data/v62.0/`, { headers: auth, ...as(null) }),
      'bound token at /services/data without a certificate:');

    // RFC 7009 over mTLS: revocation authenticated by the certificate. Another certificate
    // naming the same client is refused and revokes nothing; the registered one revokes.
    assertTokenError(await revokeOverTls(app.client_id, at, other), 'invalid_client');
    assert.equal((await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(client) })).status, 200,
      'a revocation with the wrong certificate must leave the token alive');
    const rev = await revokeOverTls(app.client_id, at, client);
    assert.equal(rev.status, 200, show(rev));
    assertInvalidSession(await tlsRequest(`${tlsBase}/services/oauth2/userinfo`, { headers: auth, ...as(client) }),
      'revoked bound token:');
  });

  it('revoke and introspect authenticate the certificate as the token endpoint does', async () => {
    const app = world.apps.mtls;
    const at = assertTokenSuccess(await ccToken(app, client)).access_token;
    const active = async () => (await introspectOverTls(tlsBase, app.client_id, at, as(client))).json?.active;
    // An unregistered certificate, another app's registered one, and an expired registered one
    // (for the app that registered it) are invalid_client at both endpoints.
    for (const [clientId, cert, what] of [[app.client_id, other, 'unregistered certificate'],
      [app.client_id, peerCert, "another app's certificate"], [world.apps.old.client_id, expired, 'expired certificate']]) {
      const intro = await introspectOverTls(tlsBase, clientId, at, as(cert));
      assertTokenError(intro, 'invalid_client');
      assert.ok(!('active' in intro.json), `introspection with an ${what} answered: ${show(intro)}`);
      assertTokenError(await revokeOverTls(clientId, at, cert), 'invalid_client');
      assert.equal(await active(), true, `revocation with an ${what} must revoke nothing`);
    }
    // The registered certificate introspects and revokes.
    assert.equal(await active(), true);
    assert.equal((await revokeOverTls(app.client_id, at, client)).status, 200);
    assert.equal(await active(), false, 'revocation with the registered certificate must revoke');
  });

  it("an mTLS client cannot revoke another app's token (RFC 7009 §2.1)", async () => {
    const peer = world.apps.peer;
    const theirs = assertTokenSuccess(await ccToken(peer, peerCert)).access_token;
    const r = await revokeOverTls(world.apps.mtls.client_id, theirs, client);
    assert.equal(r.status, 200, show(r));  // RFC 7009 §2.2: the answer tells nothing
    const intro = await introspectOverTls(tlsBase, peer.client_id, theirs, as(peerCert));
    assert.equal(intro.json?.active, true, `another client's revocation revoked the token: ${show(intro)}`);
  });

  it('an unregistered certificate at the token endpoint is invalid_client', async () => {
    assertTokenError(await ccToken(world.apps.mtls, other), 'invalid_client');
  });

  it('an mTLS app without any certificate, or over the plain listener, is not authenticated', async () => {
    assertTokenError(await ccToken(world.apps.mtls, null), 'invalid_client');
    const plain = await fetch(world.issuer + TOKEN, {
      method: 'POST', headers: formHeaders, body: form({ grant_type: GRANT, client_id: world.apps.mtls.client_id }),
    });
    assert.equal(plain.status, 400);
    assert.equal((await plain.json()).error, 'invalid_client');
  });

  it('an expired registered certificate is refused', async () => {
    assertTokenError(await ccToken(world.apps.old, expired), 'invalid_client');
  });

  it('certificate plus client secret is two methods: invalid_request', async () => {
    // The app has no secret (self_signed_tls_client_auth only); any secret sent is a second method.
    assert.equal(world.apps.mtls.client_secret, undefined);
    const r = await ccToken(world.apps.mtls, client, {client_secret: 'some-secret'});
    assertTokenError(r, 'invalid_request');
  });

  it('an app without --mtls-cert still uses its secret over TLS, with or without a client certificate, and gets an unbound token', async () => {
    const app = world.apps.plain;
    for (const c of [null, other]) {
      const r = await ccToken(app, c, { client_secret: app.client_secret });
      const body = assertTokenSuccess(r);
      const ui = await callApi(`${world.issuer}/services/oauth2/userinfo`, body.access_token);
      assert.equal(ui.status, 200, `unbound token over the plain listener: ${show(ui)}`);
    }
  });

  it('discovery advertises bound tokens, tls_client_auth, self_signed_tls_client_auth and the mTLS endpoint aliases', async () => {
    const r = await httpGet(`${world.issuer}/.well-known/openid-configuration`);
    assert.equal(r.status, 200, show(r));
    const d = r.json;
    assert.equal(d.tls_client_certificate_bound_access_tokens, true);
    for (const key of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported']) {
      for (const method of ['self_signed_tls_client_auth', 'tls_client_auth']) {
        assert.ok(d[key].includes(method), `${key} must include ${method}: ${JSON.stringify(d[key])}`);
      }
    }
    assert.deepEqual(d.mtls_endpoint_aliases, {
      token_endpoint: `${tlsBase}/services/oauth2/token`,
      introspection_endpoint: `${tlsBase}/services/oauth2/introspect`,
      revocation_endpoint: `${tlsBase}/services/oauth2/revoke`,
      userinfo_endpoint: `${tlsBase}/services/oauth2/userinfo`,
    });
    // The same document over TLS.
    const t = await tlsRequest(`${tlsBase}/.well-known/openid-configuration`, as(null));
    assert.equal(t.status, 200, show(t));
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(t.tlsInfo.protocol), JSON.stringify(t.tlsInfo));
  });

  it('TLS 1.0 and 1.1 are refused by the server; TLS 1.2 (ECDHE, AEAD) and TLS 1.3 are accepted', async (t) => {
    const hostPort = new URL(tlsBase).host;
    // An OpenSSL 3 client at its default security level will not complete TLS < 1.2 itself;
    // at level 0 it offers and accepts them, so what the output shows is the server's answer:
    // a protocol_version alert (RFC 8446 §6.2, alert 70) for a ClientHello below its minimum.
    for (const [flag, name] of [['-tls1', 'TLS 1.0'], ['-tls1_1', 'TLS 1.1']]) {
      const r = await sClient(hostPort, [flag, '-cipher', 'DEFAULT:@SECLEVEL=0', '-CAfile', server.certPath]);
      assert.match(r.out, /alert protocol version[^\n]*SSL alert number 70/,
        `${name} must be refused by the server with a protocol_version alert:\n${r.out.slice(0, 1500)}`);
      assert.doesNotMatch(r.out, /Cipher is (?!\(NONE\))/, `${name} must not negotiate:\n${r.out.slice(0, 1500)}`);
      assert.notEqual(r.code, 0, `${name}: s_client must fail`);
    }
    const negotiated = (out) => /New, (TLSv1\.[23]), Cipher is (\S+)/.exec(out)?.slice(1) ?? [];
    const v12 = await sClient(hostPort, ['-tls1_2', '-CAfile', server.certPath, '-cert', client.certPath, '-key', client.keyPath]);
    const [p12, c12] = negotiated(v12.out);
    assert.equal(p12, 'TLSv1.2', v12.out.slice(0, 1500));
    assert.match(c12, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/, v12.out.slice(0, 1500));
    assert.match(v12.out, /Verify return code: 0 \(ok\)/, v12.out.slice(0, 1500));
    t.diagnostic(`openssl s_client -tls1_2 negotiated ${p12} ${c12}`);
    const v13 = await sClient(hostPort, ['-tls1_3', '-CAfile', server.certPath]);
    const [p13, c13] = negotiated(v13.out);
    assert.equal(p13, 'TLSv1.3', v13.out.slice(0, 1500));
    assert.match(c13, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/, v13.out.slice(0, 1500));
    t.diagnostic(`openssl s_client -tls1_3 negotiated ${p13} ${c13}`);
    // No CBC suites for TLS 1.2: the server finds no shared cipher (handshake_failure, alert 40).
    const cbc = await sClient(hostPort, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA']);
    assert.match(cbc.out, /alert handshake failure[^\n]*SSL alert number 40/, `a CBC suite was not refused:\n${cbc.out.slice(0, 1500)}`);
    assert.doesNotMatch(cbc.out, /Cipher is (?!\(NONE\))/, `a CBC suite was accepted:\n${cbc.out.slice(0, 1500)}`);
  });

  it('without --tls-listen nothing of mTLS is advertised', async () => {
    // The main world has TLS on; a second plain server on the same database answers without it.
    const s = await startServer(world.db);
    try {
      const r = await httpGet(`${s.issuer}/.well-known/openid-configuration`);
      assert.equal(r.status, 200, show(r));
      assert.ok(!('mtls_endpoint_aliases' in r.json));
      assert.ok(!('tls_client_certificate_bound_access_tokens' in r.json));
      assert.ok(!r.json.token_endpoint_auth_methods_supported.includes('self_signed_tls_client_auth'));
      assert.ok(!r.json.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
    } finally {
      await s.stop();
    }
  });

  it('--tls-issuer sets the base of mtls_endpoint_aliases; it must be https and needs --tls-listen', async () => {
    const tlsArgs = ['--tls-listen', '127.0.0.1:0', '--tls-cert', server.certPath, '--tls-key', server.keyPath];
    const s = await startServer(world.db, { extraArgs: [...tlsArgs, '--tls-issuer', 'https://mtls.example.test:9443/'] });
    try {
      const d = (await httpGet(`${s.issuer}/.well-known/openid-configuration`)).json;
      assert.equal(d.mtls_endpoint_aliases.token_endpoint, 'https://mtls.example.test:9443/services/oauth2/token');
      assert.equal(d.mtls_endpoint_aliases.userinfo_endpoint, 'https://mtls.example.test:9443/services/oauth2/userinfo');
    } finally {
      await s.stop();
    }
    const plain = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', ...tlsArgs, '--tls-issuer', 'http://mtls.example.test']);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /--tls-issuer must be an https:\/\/ URL/, plain.stderr);
    const alone = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--tls-issuer', 'https://mtls.example.test']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--tls-issuer need --tls-listen/, alone.stderr);
  });

  it('start-up fails clearly for an unreadable certificate or a key that does not match', async () => {
    const missing = path.join(keyDir, 'missing.crt');
    const r1 = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0',
      '--tls-cert', missing, '--tls-key', server.keyPath]);
    assert.notEqual(r1.code, 0);
    assert.match(r1.stderr, new RegExp(`cannot read TLS certificate file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), r1.stderr);
    const r2 = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0',
      '--tls-cert', server.certPath, '--tls-key', client.keyPath]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /does not match/, r2.stderr);
  });

  it('start-up fails with one clear line naming the file: unreadable key or client CA, garbage PEM, encrypted key', async () => {
    const garbage = path.join(keyDir, 'garbage.pem');
    await writeFile(garbage, 'this is not PEM\n');
    const fakePem = path.join(keyDir, 'fake-cert.pem');
    await writeFile(fakePem, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    const encrypted = path.join(keyDir, 'encrypted.key');
    await execFileP('openssl', ['pkey', '-in', server.keyPath, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const missing = path.join(keyDir, 'no-such.pem');
    const tls = (cert, key, ca) => ['--tls-listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key,
      ...(ca ? ['--tls-client-ca', ca] : [])];
    const cases = [
      [tls(server.certPath, keyDir), `cannot read TLS key file ${keyDir}: Is a directory`],
      [tls(server.certPath, missing), `cannot read TLS key file ${missing}: No such file or directory`],
      [tls(server.certPath, server.keyPath, keyDir), `cannot read TLS client CA file ${keyDir}: Is a directory`],
      [tls(server.certPath, server.keyPath, missing), `cannot read TLS client CA file ${missing}: No such file or directory`],
      [tls(garbage, server.keyPath), `cannot load TLS certificate file ${garbage}: not a PEM certificate chain`],
      [tls(fakePem, server.keyPath), `cannot load TLS certificate file ${fakePem}: not a PEM certificate chain`],
      [tls(server.certPath, garbage), `cannot load TLS key file ${garbage}: not an unencrypted PEM private key`],
      [tls(server.certPath, encrypted), `cannot load TLS key file ${encrypted}: not an unencrypted PEM private key`],
      [tls(server.certPath, server.keyPath, garbage), `cannot load TLS client CA file ${garbage}: not PEM CA certificates`],
      [tls(server.certPath, server.keyPath, fakePem), `cannot load TLS client CA file ${fakePem}: not PEM CA certificates`],
    ];
    await Promise.all(cases.map(async ([args, expected]) => {
      // A prompt for the encrypted key's passphrase would wait on stdin: the short timeout fails it.
      const r = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', ...args], { timeoutMs: 10000 });
      const what = `${expected}\n  exit ${r.code}, signal ${r.signal}, stderr:\n${r.stderr}`;
      assert.equal(r.signal, null, `must exit, not crash or hang: ${what}`);
      assert.equal(r.code, 1, what);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line expected: ${what}`);
      assert.ok(lines[0].startsWith(`latchkey: ${expected}`), what);
      assert.doesNotMatch(r.stdout, /listening on/, what);
    }));
  });

  it('SIGHUP reloads the certificate; a bad file on reload keeps the old one', async () => {
    // A server of its own, so that swapping its files does not disturb the cases alongside.
    const fresh = await makeCert(keyDir, 'fresh', { type: 'ec', cn: 'fresh', san: 'IP:127.0.0.1' });
    const liveCrt = path.join(keyDir, 'hup.crt');
    const liveKey = path.join(keyDir, 'hup.key');
    await copyFile(server.certPath, liveCrt);
    await copyFile(server.keyPath, liveKey);
    const s = await startServer(world.db, { extraArgs: ['--tls-listen', '127.0.0.1:0', '--tls-cert', liveCrt, '--tls-key', liveKey] });
    try {
      const base = tlsBaseOf(s.logs());
      const health = (ca) => tlsRequest(`${base}/healthz`, { ca });
      assert.equal((await health(server.certPem)).status, 200);
      // A broken key: the reload fails, the old certificate stays.
      await writeFile(liveKey, 'not a key\n');
      s.child.kill('SIGHUP');
      await waitFor(() => /TLS reload failed/.test(s.logs()), 'the failed reload to be logged');
      assert.equal((await health(server.certPem)).status, 200, 'the old certificate must still be served');
      // A good pair: new connections get the new certificate.
      await copyFile(fresh.certPath, liveCrt);
      await copyFile(fresh.keyPath, liveKey);
      s.child.kill('SIGHUP');
      await waitFor(() => /TLS certificate and key reloaded/.test(s.logs()), 'the reload to be logged');
      assert.equal((await health(fresh.certPem)).status, 200);
      await assert.rejects(health(server.certPem), 'the old certificate must be gone');
      assert.equal(s.child.exitCode, null, 'SIGHUP must not stop the server');
    } finally {
      await s.stop();
    }
  });
});
