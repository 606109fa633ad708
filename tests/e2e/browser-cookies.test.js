// The sign-in cookies where the browser is on https (RFC 6265bis §4.1.3.2, RFC 9700 §4.7): the
// login page reached over the TLS listener, or through an https --issuer (TLS ended in front of
// the server), sets `__Host-` cookies with Secure, Path=/ and no Domain, and the login goes
// through with them; a plain-named cookie (what an http page could plant) counts for nothing
// there. Over plain http the names are plain and carry no Secure (browsers reject it there).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startWorld, startServer, makeTempDir, freePort } from './lib/server.js';
import { makeCert } from './lib/keys.js';
import { tlsBaseOf, tlsRequest } from './lib/tls.js';
import { parseForms } from './lib/driver.js';
import { authorizeUrl } from './lib/oauth.js';

const AUTHORIZE = '/services/oauth2/authorize';

/** The Set-Cookie lines of a tlsRequest answer (its headers join them with ", "). */
function setCookies(res) {
  const joined = res.headers.get('set-cookie');
  return joined ? joined.split(/,\s*(?=[^;=\s]+=)/) : [];
}

function assertHostCookie(c, what) {
  const [pair, ...attrs] = c.split(';').map((p) => p.trim());
  const lower = attrs.map((a) => a.toLowerCase());
  assert.match(pair, /^__Host-/, `${what}: name must start with __Host-: ${c}`);
  assert.ok(lower.includes('secure'), `${what}: not Secure: ${c}`);
  assert.ok(lower.includes('path=/'), `${what}: not Path=/: ${c}`);
  assert.ok(!lower.some((a) => a.startsWith('domain')), `${what}: has a Domain: ${c}`);
  assert.ok(lower.includes('httponly'), `${what}: not HttpOnly: ${c}`);
}

describe('sign-in cookies over https', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let keyDir;
  let server;
  let tlsBase;

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-cookies-');
    server = await makeCert(keyDir, 'server', { type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' });
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
      },
      apps: { web: { scopes: 'api openid' } },
      serve: { extraArgs: ['--tls-listen', '127.0.0.1:0', '--tls-cert', server.certPath, '--tls-key', server.keyPath] },
    });
    tlsBase = tlsBaseOf(world.logs());
  });
  after(async () => {
    await world?.stop();
    if (keyDir && !process.env.E2E_KEEP_TMP) await rm(keyDir, { recursive: true, force: true });
  });

  const params = () => ({
    response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'c',
  });

  /** The login form over TLS: its cookies and the POST body that signs alice in. */
  async function loginOverTls() {
    const page = await tlsRequest(authorizeUrl(tlsBase, params()), { ca: server.certPem });
    assert.equal(page.status, 200, page.text.slice(0, 300));
    const cookies = setCookies(page);
    const form = parseForms(page.text, `${tlsBase}${AUTHORIZE}`)[0];
    const body = new URLSearchParams(form.fields);
    body.set('username', world.users.alice.username);
    body.set('password', world.users.alice.password);
    return { cookies, body: body.toString() };
  }
  const post = (body, cookie) => tlsRequest(`${tlsBase}${AUTHORIZE}`, {
    method: 'POST', ca: server.certPem, body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  });

  it('over the TLS listener the login page and the login set __Host- cookies (Secure, Path=/, no Domain), and the login works with them', async () => {
    const { cookies, body } = await loginOverTls();
    assert.equal(cookies.length, 1, JSON.stringify(cookies));
    assertHostCookie(cookies[0], 'login page');
    const res = await post(body, cookies[0].split(';')[0]);
    assert.ok(res.status === 200 || res.status === 302, `login: ${res.status} ${res.text.slice(0, 300)}`);
    const session = setCookies(res);
    assert.equal(session.length, 1, JSON.stringify(session));
    assert.match(session[0], /^__Host-lk_sid=/);
    assertHostCookie(session[0], 'session');
  });

  it('over the TLS listener a plain-named copy of the cookie (as an http page could plant) is no cookie at all → 403', async () => {
    const { cookies, body } = await loginOverTls();
    const planted = cookies[0].split(';')[0].replace(/^__Host-/, '');
    const res = await post(body, planted);
    assert.equal(res.status, 403, `${res.status} ${res.text.slice(0, 300)}`);
    assert.ok(!setCookies(res).some((c) => /lk_sid=/.test(c)), 'a session was made');
  });

  it('on the plain listener the names are plain and carry no Secure', async () => {
    const page = await fetch(authorizeUrl(world.issuer, params()), { redirect: 'manual' });
    const cookies = page.headers.getSetCookie();
    assert.equal(cookies.length, 1, JSON.stringify(cookies));
    assert.match(cookies[0], /^lk_csrf=/);
    assert.ok(!/;\s*secure/i.test(cookies[0]), cookies[0]);
  });

  it('an https --issuer (TLS ended in front of the server) sets __Host- cookies on the plain listener too', async () => {
    const port = await freePort();
    const s = await startServer(world.db, { listen: `127.0.0.1:${port}`, extraArgs: ['--issuer', 'https://login.example.test'] });
    try {
      const u = new URL(authorizeUrl('https://login.example.test', params()));
      const page = await fetch(`http://127.0.0.1:${port}${u.pathname}${u.search}`, { redirect: 'manual' });
      const cookies = page.headers.getSetCookie();
      assert.equal(cookies.length, 1, `${page.status} ${JSON.stringify(cookies)}`);
      assertHostCookie(cookies[0], 'https issuer');
    } finally {
      await s.stop();
    }
  });
});
