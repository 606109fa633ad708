// docs/behaviour.md §5.1 web server flow: single-use codes, exact redirect_uri, error page vs error
// redirect, state, consent and login behaviour, CSRF.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { Browser, describeResult, parseForms, pageKind } from './lib/driver.js';
import {
  getCode, exchangeCode, codeFlow, assertTokenError, assertTokenSuccess, assertInvalidSession,
  authorizeUrl, userinfo, refresh, introspect, randomString, pkcePair, show, sleep,
} from './lib/oauth.js';

const CB2 = 'http://127.0.0.1:9/cb2';

describe('web server flow (docs/behaviour.md §5.1)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost', password: 'bob-Secret-42' },
        carol: { username: 'carol@localhost', name: 'Carol King', email: 'carol@localhost' },
        dave: { username: 'dave@localhost', name: 'Dave Brown', email: 'dave@localhost' },
        erin: { username: 'erin@localhost', name: 'Erin Gray', email: 'erin@localhost' },
        frank: { username: 'frank@localhost', name: 'Frank Moss', email: 'frank@localhost' },
        gina: { username: 'gina@localhost', name: 'Gina Lee', email: 'gina@localhost' },
        hank: { username: 'hank@localhost', name: 'Hank Hill', email: 'hank@localhost' },
        ivy: { username: 'ivy@localhost', name: 'Ivy Park', email: 'ivy@localhost' },
      },
      apps: {
        web: { scopes: 'api refresh_token openid', callbacks: ['http://127.0.0.1:9/cb', CB2] },
        other: { scopes: 'api refresh_token openid profile' },
        rotating: { scopes: 'api refresh_token openid', refreshPolicy: 'rotate' },
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('a replayed code is invalid_grant and the tokens issued from it are revoked', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const first = assertTokenSuccess(await exchangeCode(world, app, got));
    const before = await userinfo(world, first.access_token);
    assert.equal(before.status, 200, show(before));
    const replay = await exchangeCode(world, app, got);
    assertTokenError(replay, 'invalid_grant');
    assertInvalidSession(await userinfo(world, first.access_token), 'access token of a replayed code:');
    assertTokenError(await refresh(world, app, first.refresh_token), 'invalid_grant');
  });

  // RFC 6749 §4.1.2: "all tokens previously issued based on that authorization code", so also
  // those the code's refresh token bought after the exchange.
  for (const appKey of ['web', 'rotating']) {
    it(`a replayed code also revokes the tokens refreshed from it (${appKey === 'web' ? 'until-revoked' : 'rotate'} policy)`, async () => {
      const app = world.apps[appKey];
      const got = await getCode(world, { app });
      const first = assertTokenSuccess(await exchangeCode(world, app, got));
      const later = assertTokenSuccess(await refresh(world, app, first.refresh_token));
      const laterRefresh = later.refresh_token ?? first.refresh_token;
      assert.equal((await userinfo(world, later.access_token)).status, 200);
      assert.equal((await introspect(world, app, later.access_token)).json?.active, true);

      assertTokenError(await exchangeCode(world, app, got), 'invalid_grant');
      for (const [what, token] of [['refreshed access token', later.access_token], ['refresh token', laterRefresh]]) {
        const intro = await introspect(world, app, token);
        assert.equal(intro.status, 200, show(intro));
        assert.deepEqual(intro.json, { active: false }, `${what} after the replay: ${show(intro)}`);
      }
      assertInvalidSession(await userinfo(world, later.access_token), 'access token refreshed from a replayed code:');
      assertTokenError(await refresh(world, app, laterRefresh), 'invalid_grant');
    });
  }

  it('redirect_uri at the token step must equal the one used at authorize (another registered callback → invalid_grant)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    assertTokenError(await exchangeCode(world, app, got, { redirectUri: CB2 }), 'invalid_grant');
  });

  it('redirect_uri missing at the token step is refused', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await exchangeCode(world, app, got, { redirectUri: null });
    assert.equal(r.status, 400, show(r));
    assert.ok(['invalid_grant', 'invalid_request'].includes(r.json?.error), show(r));
  });

  it('the second registered callback works when used consistently', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app, redirectUri: CB2 });
    assert.ok(got.result.location.startsWith(CB2 + '?'), got.result.location);
    assertTokenSuccess(await exchangeCode(world, app, got));
  });

  it('a code issued to one app cannot be redeemed by another (invalid_grant)', async () => {
    const got = await getCode(world, { app: world.apps.web });
    const r = await exchangeCode(world, world.apps.other, { ...got, redirectUri: got.redirectUri });
    assertTokenError(r, 'invalid_grant');
  });

  it('an unknown code is invalid_grant', async () => {
    const app = world.apps.web;
    const r = await exchangeCode(world, app, { code: 'bogus-' + randomString(), redirectUri: app.callback, verifier: undefined });
    assertTokenError(r, 'invalid_grant');
  });

  it('the redirect carries code, state and (if present) iss = issuer', async () => {
    const got = await getCode(world, { app: world.apps.web, state: 'a b&c=d/é' });
    assert.equal(got.result.params.get('state'), 'a b&c=d/é');
    assert.equal(got.result.status, 302);
    const iss = got.result.query.get('iss');
    if (iss !== null) assert.equal(iss, world.issuer);
    assert.ok(!got.result.url.hash, 'code flow answers in the query, not the fragment');
  });

  it('unknown client_id → 400 error page "invalid_client_id" / "client identifier invalid", no Location', async () => {
    const b = new Browser(world.issuer);
    const page = await b.get(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: '3MVG9unknownclient' + randomString(8), redirect_uri: world.apps.web.callback, state: 's',
    }));
    assert.equal(page.status, 400, `${page.status} ${page.body.slice(0, 300)}`);
    assert.equal(page.location, null, 'must not redirect');
    assert.match(page.body, /invalid_client_id/);
    assert.match(page.body, /client identifier invalid/);
  });

  for (const [label, uri] of [
    ['a different path', 'http://127.0.0.1:9/other'],
    ['a trailing slash', 'http://127.0.0.1:9/cb/'],
    ['an extra query', 'http://127.0.0.1:9/cb?x=1'],
    ['a different port', 'http://127.0.0.1:10/cb'],
    ['a different host', 'http://evil.example/cb'],
  ]) {
    it(`unregistered redirect_uri (${label}) → 400 error page "redirect_uri_mismatch", no Location`, async () => {
      const b = new Browser(world.issuer);
      const page = await b.get(authorizeUrl(world.issuer, {
        response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: uri, state: 's',
      }));
      assert.equal(page.status, 400, `${page.status} ${page.body.slice(0, 300)}`);
      assert.equal(page.location, null, 'must not redirect');
      assert.match(page.body, /redirect_uri_mismatch/);
      assert.match(page.body, /redirect_uri must match configuration/);
    });
  }

  it('an unknown response_type → error redirect unsupported_response_type with state', async () => {
    const got = await getCode(world, { app: world.apps.web, responseType: 'bogus', expectCode: false });
    assert.ok(got.result.location, describeResult(got.result));
    assert.equal(got.result.params.get('error'), 'unsupported_response_type');
    assert.equal(got.result.params.get('state'), got.state);
    assert.equal(got.result.params.get('code'), null);
  });

  it('a parameter given twice at authorize is refused (no code)', async () => {
    const b = new Browser(world.issuer);
    const u = new URL(authorizeUrl(world.issuer, { response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 's1' }));
    u.searchParams.append('state', 's2');
    const r = await b.authorize(u.href, { username: world.users.alice.username, password: world.users.alice.password });
    if (r.location) {
      assert.equal(r.params.get('error'), 'invalid_request', r.location);
      assert.equal(r.params.get('code'), null);
    } else {
      assert.equal(r.status, 400, describeResult(r));
    }
  });

  it('request parameters are HTML-escaped on the login page and on the error page (no reflected markup)', async () => {
    const evil = '"><script>alert(1)</script><x y="';
    const b = new Browser(world.issuer);
    const login = await b.get(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: evil, nonce: evil,
    }));
    assert.equal(login.status, 200, login.body.slice(0, 300));
    assert.ok(!login.body.includes('<script>alert(1)</script>'), 'state reflected unescaped on the login page');
    const form = parseForms(login.body, login.url).find((f) => f.inputs.some((i) => i.name === 'password'));
    const carried = form.fields.filter(([, v]) => v.includes(evil));
    if (form.fields.some(([k]) => k === 'state')) assert.ok(carried.length >= 1, 'state is carried intact through the form');
    const errorPage = await b.get(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: evil, redirect_uri: world.apps.web.callback, state: 's',
    }));
    assert.equal(errorPage.status, 400);
    assert.ok(!errorPage.body.includes('<script>alert(1)</script>'), 'client_id reflected unescaped on the error page');
  });

  it('deny on the consent page → error=access_denied with state, no code', async () => {
    const b = new Browser(world.issuer);
    const got = await getCode(world, { app: world.apps.other, user: world.users.carol, browser: b, decision: 'deny', expectCode: false });
    assert.ok(got.result.location, describeResult(got.result));
    assert.ok(got.result.pages.includes('consent'), `consent page expected: ${got.result.pages}`);
    assert.equal(got.result.params.get('error'), 'access_denied');
    assert.equal(got.result.params.get('state'), got.state);
    assert.equal(got.result.params.get('code'), null);
  });

  it('consent is remembered per user+app; prompt=consent asks again; prompt=login shows the login page', async () => {
    const b = new Browser(world.issuer);
    const app = world.apps.web;
    const user = world.users.dave;
    const first = await getCode(world, { app, browser: b, user });
    assert.deepEqual(first.result.pages, ['login', 'consent']);
    const second = await getCode(world, { app, browser: b, user });
    assert.deepEqual(second.result.pages, [], `second authorize should redirect straight away: ${describeResult(second.result)}`);
    const again = await getCode(world, { app, browser: b, user, extra: { prompt: 'consent' } });
    assert.deepEqual(again.result.pages, ['consent'], describeResult(again.result));
    const relogin = await getCode(world, { app, browser: b, user, extra: { prompt: 'login' } });
    assert.equal(relogin.result.pages[0], 'login', describeResult(relogin.result));
    // the same consent is remembered for a fresh browser after a login
    const fresh = await getCode(world, { app, user });
    assert.deepEqual(fresh.result.pages, ['login'], describeResult(fresh.result));
  });

  it('consent is per app: approving one app does not approve another for the same user', async () => {
    const b = new Browser(world.issuer);
    const user = world.users.ivy;
    const first = await getCode(world, { app: world.apps.web, browser: b, user });
    assert.deepEqual(first.result.pages, ['login', 'consent'], describeResult(first.result));
    const other = await getCode(world, { app: world.apps.other, browser: b, user });
    assert.deepEqual(other.result.pages, ['consent'], `another app must ask for consent: ${describeResult(other.result)}`);
    const back = await getCode(world, { app: world.apps.web, browser: b, user });
    assert.deepEqual(back.result.pages, [], describeResult(back.result));
  });

  it('max_age: a login older than max_age asks for the password again; a recent one does not (OIDC Core §3.1.2.1)', async () => {
    const b = new Browser(world.issuer);
    const app = world.apps.web;
    // a user of its own: tests run concurrently and the consent test counts dave's pages
    const user = world.users.hank;
    await getCode(world, { app, browser: b, user });
    const recent = await getCode(world, { app, browser: b, user, extra: { max_age: '3600' } });
    assert.deepEqual(recent.result.pages, [], describeResult(recent.result));
    await sleep(1100);
    const stale = await getCode(world, { app, browser: b, user, extra: { max_age: '0' } });
    assert.equal(stale.result.pages[0], 'login', describeResult(stale.result));
  });

  it('prompt=none without a session → error=login_required with state', async () => {
    const got = await getCode(world, { app: world.apps.web, extra: { prompt: 'none' }, expectCode: false });
    assert.deepEqual(got.result.pages, [], 'prompt=none must not show a page');
    assert.ok(got.result.location, describeResult(got.result));
    assert.equal(got.result.params.get('error'), 'login_required');
    assert.equal(got.result.params.get('state'), got.state);
  });

  it('a wrong password re-renders the login page with an error and creates no session', async () => {
    const b = new Browser(world.issuer);
    const url = authorizeUrl(world.issuer, { response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'w' });
    const { forms, kind, page } = await b.load(url);
    assert.equal(kind, 'login', page.body.slice(0, 300));
    const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
    assert.ok(form.fields.some(([k]) => k === 'csrf'), 'login form carries a csrf field');
    assert.ok(form.fields.some(([k]) => k === 'username') && form.inputs.some((i) => i.name === 'password' && i.type === 'password'));
    const res = await b.submit(form, { set: { username: world.users.bob.username, password: 'wrong-password' } });
    assert.ok([200, 401].includes(res.status), `wrong password: HTTP ${res.status} ${res.location ?? ''}`);
    assert.equal(res.location, null);
    assert.equal(pageKind(parseForms(res.body, res.url)), 'login', 'login page shown again');
    assert.match(res.body, /(invalid|incorrect|wrong|error|failed)/i, 'an error message is shown');
    const none = await b.authorize(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'n', prompt: 'none',
    }));
    assert.equal(none.params.get('error'), 'login_required', `no session after a failed login: ${describeResult(none)}`);
  });

  for (const [label, change] of [['missing', { omit: ['csrf'] }], ['wrong', { set: { csrf: 'forged-' + randomString() } }]]) {
    it(`login POST with a ${label} csrf token is refused (4xx) and creates no session`, async () => {
      const b = new Browser(world.issuer);
      const url = authorizeUrl(world.issuer, { response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'c' });
      const { forms, kind } = await b.load(url);
      assert.equal(kind, 'login');
      const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
      const res = await b.submit(form, {
        ...change, set: { ...(change.set ?? {}), username: world.users.frank.username, password: world.users.frank.password },
      });
      assert.ok(res.status >= 400 && res.status < 500, `expected 4xx, got ${res.status} ${res.location ?? ''}`);
      assert.ok(!res.location || new URL(res.location, res.url).origin === b.origin, 'no redirect to the callback');
      const none = await b.authorize(authorizeUrl(world.issuer, {
        response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'n', prompt: 'none',
      }));
      assert.equal(none.params.get('error'), 'login_required', `no session after a refused login: ${describeResult(none)}`);
    });
  }

  it('consent POST without the csrf token is refused (4xx) and issues no code', async () => {
    const b = new Browser(world.issuer);
    const url = authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.other.client_id, redirect_uri: world.apps.other.callback, state: 'k',
      ...(() => { const p = pkcePair(); return { code_challenge: p.challenge, code_challenge_method: 'S256' }; })(),
    });
    const r = await b.authorize(url, { username: world.users.gina.username, password: world.users.gina.password, decision: null });
    assert.equal(r.pages.at(-1), 'consent', describeResult(r));
    const forms = parseForms(r.last.body, r.last.url);
    const form = forms.find((f) => f.buttons.some((btn) => btn.name === 'decision'));
    assert.ok(form.fields.some(([k]) => k === 'csrf'), 'consent form carries a csrf field');
    const values = form.buttons.filter((btn) => btn.name === 'decision').map((btn) => btn.value).sort();
    assert.deepEqual(values, ['allow', 'deny']);
    const res = await b.submit(form, { omit: ['csrf'], set: { decision: 'allow' } });
    assert.ok(res.status >= 400 && res.status < 500, `expected 4xx, got ${res.status} ${res.location ?? ''}`);
    if (res.location) assert.ok(!/[?&#]code=/.test(res.location), `a code was issued: ${res.location}`);
  });

  it('the code flow works end to end for a second user with its own identity', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.other, user: world.users.erin });
    assert.equal(tokens.id, `${world.issuer}/id/${world.users.erin.org_id}/${world.users.erin.user_id}`);
    assert.notEqual(world.users.erin.user_id, world.users.alice.user_id);
    assert.equal(world.users.erin.org_id, world.users.alice.org_id, 'one org per database');
    const ui = await userinfo(world, tokens.access_token);
    assert.equal(ui.json?.preferred_username, 'erin@localhost', show(ui));
  });
});
