// RFC 9700 (OAuth 2.0 Security Best Current Practice) countermeasures that the other e2e files
// do not already cover. Already covered elsewhere (see SECURITY.md): redirect_uri with another
// path, port, host, a trailing slash or an extra query (web-server-flow), a code redeemed by
// another app (web-server-flow), a wrong or missing PKCE verifier (pkce), CSRF with a missing or
// random csrf field on login and a missing one on consent (web-server-flow), refresh token reuse
// under rotate (refresh-policies), Cache-Control on the token response (token-response).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { Browser, describeResult, parseForms, pageKind } from './lib/driver.js';
import {
  getCode, exchangeCode, codeFlow, tokenRequest, introspect, authorizeUrl, assertTokenError,
  assertTokenSuccess, randomString, pkcePair, httpGet, show, sleep,
} from './lib/oauth.js';

const CB = 'http://127.0.0.1:9/cb';

function users(...names) {
  return Object.fromEntries(names.map((n) => [n, { username: `${n}@localhost`, name: `${n} Test`, email: `${n}@localhost` }]));
}

function pageHeaders(page) {
  const h = page.headers;
  return `status ${page.status}; x-frame-options=${h.get('x-frame-options')}; content-security-policy=${h.get('content-security-policy')}; `
    + `referrer-policy=${h.get('referrer-policy')}; cache-control=${h.get('cache-control')}`;
}

function assertNoFraming(page, what) {
  assert.equal((page.headers.get('x-frame-options') || '').toUpperCase(), 'DENY', `${what}: X-Frame-Options DENY; ${pageHeaders(page)}`);
  const csp = page.headers.get('content-security-policy') || '';
  assert.match(csp, /(^|;)\s*frame-ancestors\s+'none'\s*(;|$)/, `${what}: CSP frame-ancestors 'none'; ${pageHeaders(page)}`);
}

function assertNoReferrer(page, what) {
  assert.equal((page.headers.get('referrer-policy') || '').toLowerCase(), 'no-referrer', `${what}: Referrer-Policy no-referrer; ${pageHeaders(page)}`);
}

function assertNoStore(r, what) {
  assert.match(r.headers.get('cache-control') || '', /\bno-store\b/i, `${what}: Cache-Control no-store; ${pageHeaders(r)}`);
}

describe('RFC 9700 countermeasures', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      users: users('alice', 'csrf1', 'csrf2', 'csrf3', 'csrf4', 'csrf5', 'csrf6', 'prompt1', 'hdr1', 'hdr2', 'hdr3', 'hdr4', 'mix1', 'redir1', 'ropc'),
      apps: {
        web: { scopes: 'api refresh_token openid', callbacks: [CB] },
        brute: { scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'] },
        bystander: { scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'] },
      },
    });
  });
  after(async () => { await world?.stop(); });

  const authz = (extra = {}) => authorizeUrl(world.issuer, {
    response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: CB, state: 's-' + randomString(6), ...extra,
  });

  /** Logs `user` in with a fresh browser and stops on the consent page. */
  async function atConsent(user) {
    const b = new Browser(world.issuer);
    const { challenge } = pkcePair();
    const r = await b.authorize(authz({ code_challenge: challenge, code_challenge_method: 'S256' }),
      { username: user.username, password: user.password, decision: null });
    assert.equal(r.pages.at(-1), 'consent', describeResult(r));
    const forms = parseForms(r.last.body, r.last.url);
    const form = forms.find((f) => f.buttons.some((btn) => btn.name === 'decision'));
    return { b, page: r.last, form };
  }

  /** A fresh browser's login page, its form and the value of its csrf field. */
  async function atLogin(url = authz()) {
    const b = new Browser(world.issuer);
    const { page, forms, kind } = await b.load(url);
    assert.equal(kind, 'login', `${page.status} ${page.body.slice(0, 300)}`);
    const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
    const csrf = form.fields.find(([k]) => k === 'csrf')?.[1];
    assert.ok(csrf, 'login form carries a csrf field');
    return { b, page, form, csrf };
  }

  /** Removes the cookies `page` set (the login page: the pre-session cookie its token is bound to). */
  function dropCookiesSetBy(b, page) {
    const names = page.headers.getSetCookie().map((c) => c.split('=')[0].trim());
    assert.ok(names.length > 0, 'the login page sets the cookie its csrf token is bound to');
    for (const [id, c] of b.jar.cookies) if (names.includes(c.name)) b.jar.cookies.delete(id);
  }

  async function assertNoSession(b, what) {
    const none = await b.authorize(authz({ prompt: 'none' }));
    assert.equal(none.params.get('code'), null, `${what}: a code was issued: ${none.location}`);
    assert.equal(none.params.get('error'), 'login_required', `${what}: no session expected: ${describeResult(none)}`);
  }

  // ---- §4.1 / §4.11.2: exact redirect URI matching, no open redirect at the AS ----

  for (const [label, uri] of [
    ['a longer path sharing the prefix', 'http://127.0.0.1:9/cbx'],
    ['a sub-path of the registered path', 'http://127.0.0.1:9/cb/evil'],
    ['a dot-segment path', 'http://127.0.0.1:9/cb/../evil'],
    ['userinfo naming the registered host before another host', 'http://127.0.0.1:9@evil.example/cb'],
    ['userinfo added before the registered host', 'http://evil.example@127.0.0.1:9/cb'],
    ['a host that starts with the registered host', 'http://127.0.0.1.evil.example:9/cb'],
    ['a fragment', 'http://127.0.0.1:9/cb#x'],
    ['https instead of http', 'https://127.0.0.1:9/cb'],
  ]) {
    it(`open redirect: redirect_uri differing by ${label} → error page, no Location`, async () => {
      const b = new Browser(world.issuer);
      const page = await b.get(authorizeUrl(world.issuer, {
        response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: uri, state: 's',
      }));
      assert.equal(page.status, 400, `${uri}: ${page.status} ${page.location ?? ''} ${page.body.slice(0, 200)}`);
      assert.equal(page.location, null, `${uri}: must not redirect`);
      assert.match(page.body, /redirect_uri_mismatch/);
    });
  }

  it('open redirect: an unregistered redirect_uri combined with another error (bad response_type, plain PKCE, prompt=none, unknown scope) → error page, never a redirect to it', async () => {
    const evil = 'http://evil.example/cb';
    for (const extra of [
      { response_type: 'bogus' },
      { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' },
      { prompt: 'none' },
      { scope: 'no-such-scope' },
    ]) {
      const page = await new Browser(world.issuer).get(authz({ redirect_uri: evil, ...extra }));
      assert.ok(page.status >= 400 && page.status < 500, `${JSON.stringify(extra)}: ${page.status} ${page.location ?? ''}`);
      assert.equal(page.location, null, `${JSON.stringify(extra)}: redirected to ${page.location}`);
    }
  });

  it('open redirect: a logged-in user with remembered consent still gets the error page for an unregistered redirect_uri', async () => {
    const got = await getCode(world, { app: world.apps.web, user: world.users.redir1 });
    const b = got.browser;
    const again = await getCode(world, { app: world.apps.web, user: world.users.redir1, browser: b });
    assert.deepEqual(again.result.pages, [], 'session + remembered consent redirect straight away (control)');
    for (const uri of ['http://evil.example/cb', 'http://127.0.0.1:9@evil.example/cb', 'http://127.0.0.1:9/cbx']) {
      const page = await b.get(authz({ redirect_uri: uri }));
      assert.equal(page.status, 400, `${uri}: ${page.status} ${page.location ?? ''}`);
      assert.equal(page.location, null, `${uri}: redirected to ${page.location}`);
    }
  });

  // ---- §2.1.1 / §4.8: PKCE downgrade ----

  it('PKCE downgrade: a code_challenge without code_challenge_method is never verified as "plain"', async () => {
    const challenge = pkcePair().verifier; // a valid verifier string used as a would-be plain challenge
    const got = await getCode(world, {
      app: world.apps.web, user: world.users.alice, pkce: false, expectCode: false, extra: { code_challenge: challenge },
    });
    const code = got.result.params.get('code');
    if (code === null) {
      assert.ok(got.result.location, describeResult(got.result));
      assert.equal(got.result.params.get('error'), 'invalid_request', got.result.location);
      return;
    }
    // Accepted: it must then mean S256; the challenge itself as verifier (plain) must fail.
    assertTokenError(await exchangeCode(world, world.apps.web, got, { verifier: challenge }), 'invalid_grant');
  });

  // ---- §4.4: mix-up, RFC 9207 iss in the authorization response ----

  it('mix-up: discovery advertises authorization_response_iss_parameter_supported: true and the same issuer', async () => {
    for (const doc of ['openid-configuration', 'oauth-authorization-server']) {
      const r = await httpGet(`${world.issuer}/.well-known/${doc}`);
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.authorization_response_iss_parameter_supported, true, `${doc}: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.issuer, world.issuer);
    }
  });

  it('mix-up: a successful authorization response carries iss = issuer (RFC 9207)', async () => {
    const got = await getCode(world, { app: world.apps.web, user: world.users.mix1 });
    assert.equal(got.result.query.get('iss'), world.issuer, `iss missing or wrong: ${got.result.location}`);
    assert.equal(got.result.query.getAll('iss').length, 1);
  });

  it('mix-up: error authorization responses (access_denied, unsupported_response_type) carry iss = issuer too', async () => {
    const denied = await getCode(world, { app: world.apps.web, user: world.users.mix1, decision: 'deny', extra: { prompt: 'consent' }, expectCode: false });
    assert.equal(denied.result.params.get('error'), 'access_denied', describeResult(denied.result));
    assert.equal(denied.result.query.get('iss'), world.issuer, `iss missing on the access_denied redirect: ${denied.result.location}`);
    const bad = await new Browser(world.issuer).get(authz({ response_type: 'bogus' }));
    assert.equal(bad.status, 302, `${bad.status} ${bad.body.slice(0, 200)}`);
    const u = new URL(bad.location);
    assert.equal(u.searchParams.get('error'), 'unsupported_response_type', bad.location);
    assert.equal(u.searchParams.get('iss'), world.issuer, `iss missing on the error redirect: ${bad.location}`);
  });

  // ---- §4.7: CSRF on the login and consent forms (tokens derived from the browser's cookie) ----

  it('CSRF: login POST with a valid csrf field but without the csrf cookie → 403, no session', async () => {
    const { b, page, form } = await atLogin();
    dropCookiesSetBy(b, page);
    const u = world.users.csrf1;
    const res = await b.submit(form, { set: { username: u.username, password: u.password } });
    assert.equal(res.status, 403, `${res.status} ${res.location ?? ''}`);
    assert.equal(res.location, null);
    await assertNoSession(b, 'login without the csrf cookie');
  });

  it("CSRF: login POST carrying another browser's genuine csrf token (login CSRF) → 403, no session", async () => {
    const victim = await atLogin();
    const attacker = await atLogin();
    assert.notEqual(victim.csrf, attacker.csrf, 'each browser gets its own csrf token');
    const u = world.users.csrf2;
    const res = await victim.b.submit(victim.form, { set: { csrf: attacker.csrf, username: u.username, password: u.password } });
    assert.equal(res.status, 403, `${res.status} ${res.location ?? ''}`);
    assert.equal(res.location, null);
    await assertNoSession(victim.b, 'login with a mismatching csrf token');
  });

  it('CSRF: consent POST with a mismatching csrf field → 403, no code, consent not recorded', async () => {
    const { b, form } = await atConsent(world.users.csrf3);
    const other = await atLogin();
    const res = await b.submit(form, { set: { csrf: other.csrf, decision: 'allow' } });
    assert.equal(res.status, 403, `${res.status} ${res.location ?? ''}`);
    if (res.location) assert.ok(!/[?&#]code=/.test(res.location), `a code was issued: ${res.location}`);
    const none = await b.authorize(authz({ prompt: 'none' }));
    assert.equal(none.params.get('code'), null, `consent was recorded: ${none.location}`);
    assert.ok(['consent_required', 'interaction_required'].includes(none.params.get('error')), describeResult(none));
  });

  it('CSRF: consent POST with the csrf field but without the session cookie it is bound to → 403, no code', async () => {
    const { b, form } = await atConsent(world.users.csrf4);
    const csrf = form.fields.find(([k]) => k === 'csrf')?.[1];
    assert.ok(csrf, 'consent form carries a csrf field');
    let dropped = 0;
    for (const [id, c] of b.jar.cookies) if (/lk_sid$/.test(c.name)) { b.jar.cookies.delete(id); dropped++; }
    assert.equal(dropped, 1, 'the browser held a session cookie');
    const res = await b.submit(form, { set: { decision: 'allow' } });
    assert.equal(res.status, 403, `${res.status} ${res.location ?? ''}`);
    if (res.location) assert.ok(!/[?&#]code=/.test(res.location), `a code was issued: ${res.location}`);
  });

  it('CSRF: a csrf cookie and an equal csrf field made up by the attacker (not derived by the server) → 403, no session, no code', async () => {
    const { b, page, form } = await atLogin();
    const madeUp = randomString(43);
    const names = page.headers.getSetCookie().map((c) => c.split('=')[0].trim());
    for (const c of b.jar.cookies.values()) if (names.includes(c.name)) c.value = madeUp;
    const u = world.users.csrf5;
    const res = await b.submit(form, { set: { csrf: madeUp, username: u.username, password: u.password } });
    assert.equal(res.status, 403, `${res.status} ${res.location ?? ''}`);
    await assertNoSession(b, 'login with a made-up csrf pair');
    // The same at the consent form, next to a genuine session.
    const at = await atConsent(u);
    for (const c of at.b.jar.cookies.values()) if (/lk_csrf$/.test(c.name)) c.value = madeUp;
    const consent = await at.b.submit(at.form, { set: { csrf: madeUp, decision: 'allow' } });
    assert.equal(consent.status, 403, `${consent.status} ${consent.location ?? ''}`);
    if (consent.location) assert.ok(!/[?&#]code=/.test(consent.location), `a code was issued: ${consent.location}`);
  });

  it('CSRF: a cookie name sent twice (a planted second session or csrf cookie) → 400, no page, no code', async () => {
    const { b, form } = await atConsent(world.users.csrf6);
    const genuine = b.jar.header(form.action);
    const names = genuine.split('; ').map((p) => p.split('=')[0]);
    assert.equal(names.length, 2, `a csrf and a session cookie expected: ${genuine}`);
    for (const name of names) {
      const cookie = `${name}=planted; ${genuine}`;
      const post = await fetch(form.action, {
        method: 'POST', redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([...form.fields, ['decision', 'allow']]).toString(),
      });
      assert.equal(post.status, 400, `${name} twice on the consent POST: ${post.status} ${post.headers.get('location') ?? ''}`);
      assert.equal(post.headers.get('location'), null);
      const get = await fetch(authz(), { headers: { cookie }, redirect: 'manual' });
      assert.equal(get.status, 400, `${name} twice on the authorize GET: ${get.status}`);
      assert.match(await get.text(), /invalid_request/);
    }
  });

  // ---- OIDC Core §3.1.2.1: prompt=login and max_age hold at the consent POST too ----

  it('prompt=login / max_age=0 posted with the consent form of a session without a sign-in for that request → login page, no code; signing in for it → code', async () => {
    const u = world.users.prompt1;
    const { b } = await atConsent(u);
    const signedInAt = Date.now();
    // Whoever holds the browser session gets a consent form without the password…
    const again = await b.load(authz());
    assert.equal(again.kind, 'consent', `${again.page.status} ${again.page.body.slice(0, 300)}`);
    const form = again.forms.find((f) => f.buttons.some((btn) => btn.name === 'decision'));
    // …and posts it with prompt=login (then max_age=0) added.
    const res = await b.submit(form, { set: { decision: 'allow', prompt: 'login' } });
    assert.ok(!res.location || !/[?&#]code=/.test(res.location), `prompt=login: a code was issued: ${res.location}`);
    assert.equal(pageKind(parseForms(res.body, res.url)), 'login', `prompt=login: ${res.status} ${res.body.slice(0, 300)}`);
    // max_age=0: the sign-in must be at least a second old (auth_time has whole seconds).
    await sleep(Math.max(0, 1100 - (Date.now() - signedInAt)));
    const old = await b.submit(form, { set: { decision: 'allow', max_age: '0' } });
    assert.ok(!old.location || !/[?&#]code=/.test(old.location), `max_age=0: a code was issued: ${old.location}`);
    assert.equal(pageKind(parseForms(old.body, old.url)), 'login', `max_age=0: ${old.status} ${old.body.slice(0, 300)}`);
    // The normal path: the password given for the prompt=login request, then consent.
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
      const r = await b.authorize(authz(extra), { username: u.username, password: u.password });
      assert.ok(r.params.get('code'), `${JSON.stringify(extra)}: ${describeResult(r)}`);
    }
  });

  it('CSRF: the csrf and session cookies are HttpOnly and SameSite=Lax (or Strict), scoped to Path=/', async () => {
    const login = await atLogin(authz({ prompt: 'login' }));
    const u = world.users.hdr2;
    const res = await login.b.submit(login.form, { set: { username: u.username, password: u.password } });
    assert.ok(res.status < 400, `login: ${res.status}`);
    const cookies = [...login.page.headers.getSetCookie(), ...res.headers.getSetCookie()];
    assert.ok(cookies.length >= 2, `a csrf cookie on the login page and a session cookie on login expected; got ${JSON.stringify(cookies)}`);
    // The csrf field is derived from the cookie by the server, not a copy of it.
    assert.ok(!cookies.some((c) => c.split(';')[0].split('=').slice(1).join('=') === login.csrf), `a cookie carries the csrf value itself: ${JSON.stringify(cookies)}`);
    for (const c of cookies) {
      const attrs = c.split(';').slice(1).map((a) => a.trim().toLowerCase());
      assert.ok(attrs.includes('httponly'), `not HttpOnly: ${c}`);
      assert.ok(attrs.includes('samesite=lax') || attrs.includes('samesite=strict'), `not SameSite=Lax/Strict: ${c}`);
      assert.ok(attrs.includes('path=/'), `not Path=/: ${c}`);
    }
  });

  // ---- §4.12: no 307 after a POST carrying credentials ----

  it('the redirects answering the login and consent POSTs are 302/303, never 307/308 (credentials are not re-posted)', async () => {
    const { b, form } = await atConsent(world.users.hdr2);
    const consentRes = await b.submit(form, { set: { decision: 'allow' } });
    assert.ok([302, 303].includes(consentRes.status), `consent POST answered ${consentRes.status} ${consentRes.location}`);
    const login = await atLogin(authz({ prompt: 'login' }));
    const u = world.users.hdr2;
    const loginRes = await login.b.submit(login.form, { set: { username: u.username, password: u.password } });
    if (loginRes.status >= 300 && loginRes.status < 400) {
      assert.ok([302, 303].includes(loginRes.status), `login POST answered ${loginRes.status} ${loginRes.location}`);
    } else {
      assert.equal(loginRes.status, 200, `login POST answered ${loginRes.status}`);
    }
  });

  // ---- §4.16 clickjacking, §4.2.4 Referer leakage, RFC 6749 §5.1 / §4.2.4 no caching ----

  it('clickjacking: login, consent and error pages send X-Frame-Options DENY and CSP frame-ancestors \'none\'', async () => {
    const login = await atLogin();
    assertNoFraming(login.page, 'login page');
    const consent = await atConsent(world.users.hdr1);
    assertNoFraming(consent.page, 'consent page');
    const error = await new Browser(world.issuer).get(authz({ client_id: 'unknown-' + randomString(6) }));
    assert.equal(error.status, 400);
    assertNoFraming(error, 'error page');
    const mismatch = await new Browser(world.issuer).get(authz({ redirect_uri: 'http://evil.example/cb' }));
    assertNoFraming(mismatch, 'redirect_uri_mismatch page');
  });

  it('Referrer-Policy: no-referrer on the login, consent and error pages and on the authorize redirects', async () => {
    const login = await atLogin();
    assertNoReferrer(login.page, 'login page');
    const consent = await atConsent(world.users.hdr3);
    assertNoReferrer(consent.page, 'consent page');
    const error = await new Browser(world.issuer).get(authz({ client_id: 'unknown-' + randomString(6) }));
    assertNoReferrer(error, 'error page');
    const res = await consent.b.submit(consent.form, { set: { decision: 'allow' } });
    assert.equal(res.status, 302, `${res.status}`);
    assert.ok(/[?&]code=/.test(res.location), res.location);
    assertNoReferrer(res, 'redirect carrying the code');
    const errRedirect = await new Browser(world.issuer).get(authz({ response_type: 'bogus' }));
    assert.equal(errRedirect.status, 302);
    assertNoReferrer(errRedirect, 'error redirect');
  });

  it('Cache-Control: no-store on the login and consent pages, the authorize redirects and introspection', async () => {
    const login = await atLogin();
    assertNoStore(login.page, 'login page');
    const consent = await atConsent(world.users.hdr4);
    assertNoStore(consent.page, 'consent page');
    const res = await consent.b.submit(consent.form, { set: { decision: 'allow' } });
    assert.equal(res.status, 302, `${res.status}`);
    assertNoStore(res, 'redirect carrying the code (consent POST)');
    // A session with remembered consent: the GET answers with the code redirect at once.
    const again = await consent.b.get(authz());
    assert.equal(again.status, 302, `${again.status} ${again.body.slice(0, 200)}`);
    assert.ok(/[?&]code=/.test(again.location), again.location);
    assertNoStore(again, 'redirect carrying the code (GET with a session)');
    const { tokens } = await codeFlow(world, { app: world.apps.web, user: world.users.hdr4 });
    const active = await introspect(world, world.apps.web, tokens.access_token);
    assert.equal(active.json?.active, true, show(active));
    assertNoStore(active, 'introspection (active)');
    const inactive = await introspect(world, world.apps.web, 'unknown-' + randomString());
    assert.equal(inactive.json?.active, false, show(inactive));
    assertNoStore(inactive, 'introspection (inactive)');
  });

  // ---- §2.4: no resource owner password credentials grant ----

  it('the resource owner password credentials grant is not offered (grant_type=password → refused, not advertised)', async () => {
    const u = world.users.ropc;
    const r = await tokenRequest(world.issuer, {
      grant_type: 'password', username: u.username, password: u.password,
      client_id: world.apps.web.client_id, client_secret: world.apps.web.client_secret,
    });
    assert.equal(r.status, 400, show(r));
    assert.ok(!r.json?.access_token, `a token was issued for the password grant: ${show(r)}`);
    assert.ok(['unsupported_grant_type', 'unauthorized_client', 'invalid_grant'].includes(r.json?.error), show(r));
    const d = await httpGet(`${world.issuer}/.well-known/openid-configuration`);
    assert.ok(!d.json.grant_types_supported.includes('password'), `advertised: ${d.json.grant_types_supported}`);
  });

  // ---- §4.10 / docs/behaviour.md §6: online guessing of client secrets ----

  it('token endpoint brute force: wrong secrets from one address slow that address down (told how long to wait, then let in again); the right secret from another address and other clients are unaffected',
     async () => {
       const app = world.apps.brute;
       const grant = {grant_type: 'client_credentials'};
       const LOCKED = /too many failed attempts; try again in \d+ s/i;
       const GUESSER = '127.0.0.1';
       const ELSEWHERE = '127.0.0.2';  // the client's own server, somewhere else
       const control = await tokenRequest(
           world.issuer, grant, {basic: [app.client_id, app.client_secret], localAddress: GUESSER});
       assertTokenSuccess(control);
       // From the fifth failure on, each wrong secret that is checked (not refused unchecked during
       // a delay) doubles the delay: 1 s, 2 s, 4 s. Go on past 30 until seven were checked, so the
       // last one started a delay of at least 4 s, in which the right secret is tried next.
       let checked = 0;
       for (let i = 0; i < 30 || checked < 7; i++) {
         assert.ok(i < 300, `only ${checked} of ${i} wrong secrets were checked`);
         const r = await tokenRequest(
             world.issuer, grant, {basic: [app.client_id, 'wrong-' + i], localAddress: GUESSER});
         assert.equal(r.status, 401, `wrong secret ${i}: ${show(r)}`);
         assert.equal(r.json?.error, 'invalid_client', show(r));
         if (!LOCKED.test(r.json?.error_description ?? '')) checked++;
         if (i >= 30) await sleep(100);
       }
       const right = await tokenRequest(
           world.issuer, grant, {basic: [app.client_id, app.client_secret], localAddress: GUESSER});
       assert.ok(
           !right.json?.access_token,
           `the right secret succeeded from the guessing address during its delay: ${show(right)}`);
       assert.equal(right.status, 401, show(right));
       assert.equal(right.json?.error, 'invalid_client', show(right));
       assert.match(right.json?.error_description ?? '', LOCKED, show(right));
       // The same client from another address is let in: the guesses slowed their own address.
       assertTokenSuccess(await tokenRequest(
           world.issuer, grant,
           {basic: [app.client_id, app.client_secret], localAddress: ELSEWHERE}));
       // Another client from the guessing address is not held back by this client's failures.
       assertTokenSuccess(await tokenRequest(world.issuer, grant, {
         basic: [world.apps.bystander.client_id, world.apps.bystander.client_secret],
         localAddress: GUESSER
       }));
       // The delay is temporary: the right secret works again from the guessing address once it has
       // passed, and until then it is refused for the delay, nothing else.
       const deadline = Date.now() + 20000;
       let last;
       for (;;) {
         last = await tokenRequest(
             world.issuer, grant,
             {basic: [app.client_id, app.client_secret], localAddress: GUESSER});
         if (last.status === 200 || Date.now() > deadline) break;
         assert.match(last.json?.error_description ?? '', LOCKED, show(last));
         await sleep(500);
       }
       assertTokenSuccess(last);
     });
});
