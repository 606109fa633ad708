// docs/behaviour.md §4, §5.4, §7: protected endpoints (userinfo, identity URL, /services/data), the
// INVALID_SESSION_ID 401, the OAuth scheme, oauth_token/format=json, and discovery documents.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { codeFlow, callApi, userinfo, httpGet, assertInvalidSession, sleep, show } from './lib/oauth.js';

describe('protected resources and discovery', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let tokens; // a valid token set for alice (long TTL)

  before(async () => {
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' },
      },
      apps: {
        web: { scopes: 'api refresh_token openid profile email web' },
        short: { scopes: 'api refresh_token openid', accessTokenTtl: 2 },
      },
    });
    ({ tokens } = await codeFlow(world, { app: world.apps.web, scope: world.apps.web.scopes }));
  });
  after(async () => { await world?.stop(); });

  const endpoints = () => [
    ['userinfo', `${world.issuer}/services/oauth2/userinfo`],
    ['identity URL', `${world.issuer}/id/${world.users.alice.org_id}/${world.users.alice.user_id}`],
    ['/services/data/v59.0/', `${world.issuer}/services/data/v59.0/`],
  ];

  it('an expired access token (--access-token-ttl 2) → 401 INVALID_SESSION_ID + WWW-Authenticate on every protected endpoint', async () => {
    const { tokens: t } = await codeFlow(world, { app: world.apps.short });
    const issued = Date.now();
    for (const [name, url] of endpoints()) {
      const ok = await callApi(url, t.access_token);
      assert.equal(ok.status, 200, `${name} with a fresh token: ${show(ok)}`);
    }
    const post = await callApi(endpoints()[0][1], t.access_token, { method: 'POST' });
    assert.equal(post.status, 200, `POST userinfo with a fresh token: ${show(post)}`);
    await sleep(Math.max(0, issued + 3200 - Date.now()));
    for (const [name, url] of endpoints()) assertInvalidSession(await callApi(url, t.access_token), `${name}:`);
    // userinfo is GET and POST (docs/behaviour.md §4); the OAuth scheme too (§5).
    assertInvalidSession(await callApi(endpoints()[0][1], t.access_token, { method: 'POST' }), 'POST userinfo:');
    assertInvalidSession(await callApi(endpoints()[0][1], t.access_token, { scheme: 'OAuth' }), 'userinfo with OAuth:');
    // the identity URL with the expired token as oauth_token
    const u = new URL(endpoints()[1][1]);
    u.searchParams.set('oauth_token', t.access_token);
    u.searchParams.set('format', 'json');
    assertInvalidSession(await callApi(u.href, null), 'identity URL ?oauth_token=:');
  });

  it('an unknown token → 401 INVALID_SESSION_ID on every protected endpoint', async () => {
    for (const [name, url] of endpoints()) assertInvalidSession(await callApi(url, '00Dbogus!token' + Date.now()), `${name}:`);
  });

  it('no token at all → 401 with a Bearer challenge', async () => {
    for (const [name, url] of endpoints()) {
      const r = await callApi(url, null);
      assert.equal(r.status, 401, `${name}: ${show(r)}`);
      assert.match(r.headers.get('www-authenticate') || '', /^Bearer\b/i, `${name}: WWW-Authenticate`);
    }
  });

  it('"Authorization: OAuth <token>" is accepted like Bearer', async () => {
    for (const [name, url] of endpoints()) {
      const r = await callApi(url, tokens.access_token, { scheme: 'OAuth' });
      assert.equal(r.status, 200, `${name} with the OAuth scheme: ${show(r)}`);
    }
  });

  it('userinfo returns sub, preferred_username, email, name, user_id, organization_id (GET and POST)', async () => {
    for (const method of ['GET', 'POST']) {
      const r = await userinfo(world, tokens.access_token, { method });
      assert.equal(r.status, 200, `${method}: ${show(r)}`);
      assert.match(r.headers.get('content-type') || '', /application\/json/);
      assert.ok(r.json.sub);
      assert.equal(r.json.preferred_username, 'alice@localhost');
      assert.equal(r.json.email, 'alice@localhost');
      assert.equal(r.json.name, 'Alice Smith');
      assert.equal(r.json.user_id, world.users.alice.user_id);
      assert.equal(r.json.organization_id, world.users.alice.org_id);
    }
  });

  // RFC 6750 §3.1: a live token without the scope a resource requires.
  function assertInsufficientScope(r, scope, what) {
    assert.equal(r.status, 403, `${what}: expected 403 insufficient_scope; got ${show(r)}`);
    assert.equal(r.headers.get('www-authenticate'), `Bearer error="insufficient_scope", scope="${scope}"`, `${what}: WWW-Authenticate`);
    assert.equal(r.json?.error, 'insufficient_scope', `${what}: ${show(r)}`);
    assert.equal(typeof r.json.error_description, 'string', `${what}: ${show(r)}`);
    assert.match(r.headers.get('cache-control') || '', /no-store/, `${what}: Cache-Control`);
  }

  it('an api-only token → userinfo names the user (no profile or email claims); the identity URL 403 insufficient_scope; /services/data serves it', async () => {
    const { tokens: t } = await codeFlow(world, { app: world.apps.web, scope: 'api refresh_token' });
    assert.equal(t.scope, 'api refresh_token');
    for (const method of ['GET', 'POST']) {
      // docs/behaviour.md §8: `api` opens userinfo, as the Salesforce CLI needs.
      const r = await userinfo(world, t.access_token, { method });
      assert.equal(r.status, 200, `${method} userinfo: ${show(r)}`);
      assert.equal(r.json.user_id, world.users.alice.user_id);
      assert.equal(r.json.organization_id, world.users.alice.org_id);
      assert.equal(r.json.email, undefined, show(r));
      assert.equal(r.json.preferred_username, undefined, show(r));
    }
    assertInsufficientScope(await callApi(t.id, t.access_token), 'id', 'identity URL');
    const u = new URL(t.id);
    u.searchParams.set('oauth_token', t.access_token);
    u.searchParams.set('format', 'json');
    assertInsufficientScope(await callApi(u.href, null), 'id', 'identity URL ?oauth_token=');
    const data = await callApi(`${world.issuer}/services/data/v62.0/`, t.access_token);
    assert.equal(data.status, 200, show(data));
  });

  it('a token with neither an identity scope nor api (web refresh_token) → userinfo 403 insufficient_scope', async () => {
    const { tokens: t } = await codeFlow(world, { app: world.apps.web, scope: 'web refresh_token' });
    assert.equal(t.scope, 'web refresh_token');
    assertInsufficientScope(await userinfo(world, t.access_token), 'openid', 'userinfo');
  });

  it('an openid-only token → /services/data 403 insufficient_scope; userinfo names the user without profile or email claims', async () => {
    const { tokens: t } = await codeFlow(world, { app: world.apps.web, scope: 'openid' });
    assert.equal(t.scope, 'openid');
    assertInsufficientScope(await callApi(`${world.issuer}/services/data/v62.0/`, t.access_token), 'api', '/services/data/v62.0/');
    const r = await userinfo(world, t.access_token);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.sub, t.id);
    assert.equal(r.json.user_id, world.users.alice.user_id);
    assert.equal(r.json.organization_id, world.users.alice.org_id);
    for (const claim of ['email', 'email_verified', 'name', 'preferred_username', 'given_name', 'family_name', 'nickname']) {
      assert.ok(!(claim in r.json), `${claim} without its scope: ${show(r)}`);
    }
    // openid alone reads the identity URL (Salesforce's identity service).
    assert.equal((await callApi(t.id, t.access_token)).status, 200);
  });

  it('an openid email token → userinfo with email but no name; openid profile → name but no email', async () => {
    const { tokens: e } = await codeFlow(world, { app: world.apps.web, scope: 'openid email' });
    const withEmail = await userinfo(world, e.access_token);
    assert.equal(withEmail.status, 200, show(withEmail));
    assert.equal(withEmail.json.email, 'alice@localhost');
    assert.equal(withEmail.json.email_verified, true);
    for (const claim of ['name', 'preferred_username', 'given_name', 'family_name']) {
      assert.ok(!(claim in withEmail.json), `${claim} without profile: ${show(withEmail)}`);
    }
    const { tokens: p } = await codeFlow(world, { app: world.apps.web, scope: 'openid profile' });
    const withProfile = await userinfo(world, p.access_token);
    assert.equal(withProfile.status, 200, show(withProfile));
    assert.equal(withProfile.json.name, 'Alice Smith');
    assert.equal(withProfile.json.preferred_username, 'alice@localhost');
    assert.ok(!('email' in withProfile.json), `email without the email scope: ${show(withProfile)}`);
  });

  function checkIdentity(r) {
    assert.equal(r.status, 200, show(r));
    const j = r.json;
    assert.equal(j.id, tokens.id);
    assert.equal(j.user_id, world.users.alice.user_id);
    assert.equal(j.organization_id, world.users.alice.org_id);
    assert.equal(j.username, 'alice@localhost');
    assert.equal(j.display_name, 'Alice Smith');
    assert.equal(j.email, 'alice@localhost');
    assert.equal(j.active, true);
    assert.ok(j.urls && typeof j.urls === 'object', 'urls object');
  }

  it('the identity URL (token response "id") answers with Bearer', async () => {
    checkIdentity(await callApi(tokens.id, tokens.access_token));
  });

  it('the identity URL accepts ?oauth_token=…&format=json without a header', async () => {
    const u = new URL(tokens.id);
    u.searchParams.set('oauth_token', tokens.access_token);
    u.searchParams.set('format', 'json');
    checkIdentity(await callApi(u.href, null));
  });

  it('the identity URL with format=json and the header', async () => {
    checkIdentity(await callApi(`${tokens.id}?format=json`, tokens.access_token));
  });

  it("alice's token cannot read bob's identity URL", async () => {
    const r = await callApi(`${world.issuer}/id/${world.users.bob.org_id}/${world.users.bob.user_id}`, tokens.access_token);
    assert.ok(r.status >= 400 && r.status < 500, `expected 4xx: ${show(r)}`);
    assert.ok(!r.text.includes('bob@localhost'), 'must not disclose the other user');
  });

  it('GET /services/data lists versions [{label, url:"/services/data/vNN.N", version}]', async () => {
    const r = await callApi(`${world.issuer}/services/data`, tokens.access_token);
    assert.equal(r.status, 200, show(r));
    assert.ok(Array.isArray(r.json) && r.json.length >= 1, show(r));
    for (const v of r.json) {
      assert.equal(typeof v.label, 'string');
      assert.match(v.version, /^\d+\.\d$/);
      assert.equal(v.url, `/services/data/v${v.version}`);
    }
    const latest = r.json.at(-1);
    const map = await callApi(`${world.issuer}${latest.url}/`, tokens.access_token);
    assert.equal(map.status, 200, `resource map ${latest.url}/: ${show(map)}`);
    assert.ok(map.json && typeof map.json === 'object' && !Array.isArray(map.json), 'resource map is an object');
  });

  it('introspection requires client authentication and does not describe the token without it', async () => {
    const r = await fetch(`${world.issuer}/services/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    const text = await r.text();
    assert.ok(r.status === 401 || r.status === 400, `HTTP ${r.status} ${text}`);
    assert.match(text, /invalid_client/);
    assert.ok(!/"active"\s*:\s*true/.test(text), 'must not introspect for an unauthenticated caller');
  });

  it('introspection of a valid access token with client_secret_post: active, token_type, client_id, username', async () => {
    const app = world.apps.web;
    const r = await fetch(`${world.issuer}/services/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: app.client_id, client_secret: app.client_secret }).toString(),
    });
    const j = await r.json();
    assert.equal(r.status, 200, JSON.stringify(j));
    assert.equal(j.active, true);
    assert.equal(j.token_type, 'access_token');
    assert.equal(j.client_id, app.client_id);
    if ('username' in j) assert.equal(j.username, 'alice@localhost');
    if ('exp' in j) assert.ok(j.exp > Date.now() / 1000);
  });

  for (const doc of ['openid-configuration', 'oauth-authorization-server']) {
    it(`/.well-known/${doc} lists the endpoints at Salesforce paths`, async () => {
      const r = await httpGet(`${world.issuer}/.well-known/${doc}`);
      assert.equal(r.status, 200, show(r));
      assert.match(r.headers.get('content-type') || '', /application\/json/);
      const m = r.json;
      const is = world.issuer;
      assert.equal(m.issuer, is);
      assert.equal(m.authorization_endpoint, `${is}/services/oauth2/authorize`);
      assert.equal(m.token_endpoint, `${is}/services/oauth2/token`);
      assert.equal(m.revocation_endpoint, `${is}/services/oauth2/revoke`);
      assert.equal(m.introspection_endpoint, `${is}/services/oauth2/introspect`);
      assert.equal(m.userinfo_endpoint, `${is}/services/oauth2/userinfo`);
      assert.equal(m.jwks_uri, `${is}/id/keys`);
      assert.ok(m.response_types_supported?.includes('code'), 'response_types_supported has code');
      assert.ok(m.grant_types_supported?.includes('authorization_code'));
      assert.ok(m.grant_types_supported?.includes('refresh_token'));
      assert.ok(m.code_challenge_methods_supported?.includes('S256'));
      assert.ok(!m.code_challenge_methods_supported?.includes('plain'), 'plain must not be advertised');
      for (const meth of ['client_secret_basic', 'client_secret_post']) {
        assert.ok(m.token_endpoint_auth_methods_supported?.includes(meth), `token_endpoint_auth_methods_supported has ${meth}`);
      }
      assert.ok(m.id_token_signing_alg_values_supported?.includes('RS256'));
      assert.ok(m.scopes_supported?.includes('openid') && m.scopes_supported?.includes('api'));
      assert.ok(Array.isArray(m.subject_types_supported));
    });
  }
});
