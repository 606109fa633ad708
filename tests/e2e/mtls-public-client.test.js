// RFC 8705 §4 and §3 for public clients: an app exchanging its code with PKCE and no client
// authentication (--require-secret-web-server false, --require-secret-refresh false) over the
// TLS listener with a client certificate (self-signed, registered nowhere) gets its access token
// and its refresh token bound to that certificate (cnf.x5t#S256). The access token works only
// with the certificate; the refresh token refreshes only with it, and the tokens it gives are
// bound too. Without a certificate the same app gets unbound tokens, as before. Node's https
// module is the TLS client; the authorize step runs on the plain listener (binding happens at
// the token endpoint).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startWorld, makeTempDir } from './lib/server.js';
import { makeCert } from './lib/keys.js';
import { form, formHeaders, tlsBaseOf, tlsRequest, x5t } from './lib/tls.js';
import {
  assertInvalidSession, assertTokenError, assertTokenSuccess, callApi, getCode, introspect, show,
} from './lib/oauth.js';

const TOKEN = '/services/oauth2/token';
const USERINFO = '/services/oauth2/userinfo';

describe('mutual TLS binding for public clients (RFC 8705 §4)', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let keyDir;
  let server;  // TLS server certificate
  let client;  // the public client's certificate, registered nowhere
  let other;   // another unregistered certificate
  let tlsBase;

  const as = (c) => ({ cert: c?.certPem, key: c?.keyPem, ca: server.certPem });
  const tokenOverTls = (params, c) => tlsRequest(tlsBase + TOKEN, {
    method: 'POST', headers: formHeaders, body: form(params), ...as(c),
  });
  const userinfoOverTls = (at, c) => tlsRequest(tlsBase + USERINFO, {
    headers: { authorization: `Bearer ${at}`, accept: 'application/json' }, ...as(c),
  });
  /** Authorize on the plain listener, exchange the code with PKCE and no secret over TLS. */
  async function publicCodeExchange(app, c) {
    const got = await getCode(world, { app });
    return tokenOverTls({
      grant_type: 'authorization_code', code: got.code, redirect_uri: got.redirectUri,
      code_verifier: got.verifier, client_id: app.client_id,
    }, c);
  }
  const refreshOverTls = (app, rt, c) => tokenOverTls(
    { grant_type: 'refresh_token', refresh_token: rt, client_id: app.client_id }, c);

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-mtls-public-');
    [server, client, other] = await Promise.all([
      makeCert(keyDir, 'server', { type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' }),
      makeCert(keyDir, 'client'),
      makeCert(keyDir, 'other', { type: 'ec' }),
    ]);
    const publicApp = {
      scopes: 'api openid profile refresh_token', requireSecretWebServer: false, requireSecretRefresh: false,
    };
    world = await startWorld({
      apps: {
        rotating: { ...publicApp, refreshPolicy: 'rotate' },
        plain: publicApp,
      },
      serve: {
        extraArgs: ['--tls-listen', '127.0.0.1:0', '--tls-cert', server.certPath, '--tls-key', server.keyPath],
      },
    });
    tlsBase = tlsBaseOf(world.logs());
  });

  after(async () => {
    await world?.stop();
    if (keyDir && !process.env.E2E_KEEP_TMP) await rm(keyDir, { recursive: true, force: true });
  });

  it('binds the access and refresh tokens to the certificate; refresh needs the same certificate', async () => {
    const app = world.apps.rotating;
    const body = assertTokenSuccess(await publicCodeExchange(app, client));
    assert.ok(body.refresh_token, `no refresh token: ${JSON.stringify(body)}`);
    const thumbprint = x5t(client.certPem);

    // The access token works at userinfo only with the certificate it is bound to.
    const ok = await userinfoOverTls(body.access_token, client);
    assert.equal(ok.status, 200, show(ok));
    assert.equal(ok.json.preferred_username, 'alice@localhost', show(ok));
    assertInvalidSession(await userinfoOverTls(body.access_token, other), 'bound token with another certificate:');
    assertInvalidSession(await userinfoOverTls(body.access_token, null), 'bound token without a certificate:');
    assertInvalidSession(await callApi(world.issuer + USERINFO, body.access_token), 'bound token over the plain listener:');

    // Introspection shows the binding of both tokens.
    for (const [token, type] of [[body.access_token, 'access_token'], [body.refresh_token, 'refresh_token']]) {
      const intro = await introspect(world, app, token);
      assert.equal(intro.status, 200, show(intro));
      assert.equal(intro.json.active, true, show(intro));
      assert.equal(intro.json.token_type, type, show(intro));
      assert.deepEqual(intro.json.cnf, { 'x5t#S256': thumbprint }, show(intro));
    }

    // Refresh with another certificate, none, or over the plain listener: invalid_grant, and
    // the refresh token is neither rotated nor revoked by the attempt.
    assertTokenError(await refreshOverTls(app, body.refresh_token, other), 'invalid_grant');
    assertTokenError(await refreshOverTls(app, body.refresh_token, null), 'invalid_grant');
    const plain = await fetch(world.issuer + TOKEN, {
      method: 'POST', headers: formHeaders,
      body: form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: app.client_id }),
    });
    assert.equal(plain.status, 400);
    assert.equal((await plain.json()).error, 'invalid_grant');

    // With the certificate: a new bound access token and a rotated refresh token, still bound.
    const next = assertTokenSuccess(await refreshOverTls(app, body.refresh_token, client));
    assert.ok(next.refresh_token && next.refresh_token !== body.refresh_token, JSON.stringify(next));
    assert.equal((await userinfoOverTls(next.access_token, client)).status, 200);
    assertInvalidSession(await userinfoOverTls(next.access_token, other), 'refreshed token with another certificate:');
    const rotated = await introspect(world, app, next.refresh_token);
    assert.deepEqual(rotated.json.cnf, { 'x5t#S256': thumbprint }, show(rotated));
    assertTokenError(await refreshOverTls(app, next.refresh_token, other), 'invalid_grant');
    assertTokenSuccess(await refreshOverTls(app, next.refresh_token, client));
  });

  it('without a client certificate the public client gets unbound tokens', async () => {
    const app = world.apps.plain;
    const body = assertTokenSuccess(await publicCodeExchange(app, null));
    const ui = await callApi(world.issuer + USERINFO, body.access_token);
    assert.equal(ui.status, 200, `unbound token over the plain listener: ${show(ui)}`);
    const intro = await introspect(world, app, body.refresh_token);
    assert.equal(intro.json.active, true, show(intro));
    assert.ok(!('cnf' in intro.json), show(intro));
    const plain = await fetch(world.issuer + TOKEN, {
      method: 'POST', headers: formHeaders,
      body: form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: app.client_id }),
    });
    assert.equal(plain.status, 200, await plain.text());
  });
});
