// OIDC Core §3.2 (implicit) and §3.3 (hybrid): ID tokens issued by the authorize endpoint,
// verified with jose against /id/keys; c_hash and at_hash recomputed here (OIDC Core
// §3.3.2.11, §3.2.2.10); RFC 9207 `iss` and `state` in the fragment; the hybrid code redeemed
// at the token endpoint; the --allow-implicit rule of docs/behaviour.md §5.5 for hybrid responses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startWorld } from './lib/server.js';
import { Browser, describeResult } from './lib/driver.js';
import {
  getCode, exchangeCode, assertTokenSuccess, assertTokenError, assertInvalidSession,
  authorizeUrl, userinfo, randomString, show,
} from './lib/oauth.js';

const PASSWORD_ACR = 'urn:latchkey:acr:password';
const SCOPE = 'openid api profile';

/** OIDC Core §3.3.2.11: left half of SHA-256 of the ASCII value, base64url. */
function halfHash(value) {
  return createHash('sha256').update(Buffer.from(value, 'ascii')).digest().subarray(0, 16).toString('base64url');
}

const words = (responseType) => new Set(responseType.split(' '));

describe('OIDC front channel: implicit and hybrid ID tokens', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let jwks;

  before(async () => {
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' },
      },
      apps: {
        // Confidential (the code exchange needs the secret) and allowed the front channel.
        front: { scopes: 'api refresh_token openid profile email', allowImplicit: true },
        plain: { scopes: 'api refresh_token openid' },
      },
    });
    jwks = createRemoteJWKSet(new URL(`${world.issuer}/id/keys`));
  });
  after(async () => { await world?.stop(); });

  const subjectOf = (user) => `${world.issuer}/id/${user.org_id}/${user.user_id}`;

  /** Runs the authorize step for `responseType` and returns the callback plus what was sent. */
  async function frontChannel(responseType, { app = world.apps.front, user = world.users.alice, nonce = randomString(), extra = {} } = {}) {
    const before = Math.floor(Date.now() / 1000);
    const got = await getCode(world, {
      app, user, responseType, scope: SCOPE, nonce, expectCode: false,
      pkce: words(responseType).has('code'), extra,
    });
    assert.ok(got.result.location, `no redirect to the callback for ${responseType}: ${describeResult(got.result)}`);
    return { ...got, nonce, before, r: got.result };
  }

  /** Verifies an ID token with the server's JWKS and the claims every ID token must have. */
  async function verifyIdToken(idToken, { app = world.apps.front, user = world.users.alice, nonce, loginAfter }) {
    const { payload, protectedHeader } = await jwtVerify(idToken, jwks, {
      issuer: world.issuer, audience: app.client_id, algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.iss, world.issuer);
    assert.equal(payload.aud, app.client_id);
    assert.equal(payload.sub, subjectOf(user));
    assert.equal(payload.nonce, nonce);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - now) < 120, `iat ${payload.iat}`);
    assert.ok(Number.isInteger(payload.exp) && payload.exp > now && payload.exp <= now + 3600, `exp ${payload.exp}`);
    // Like the code flow's ID token: the login that was just made (OIDC Core §2).
    assert.ok(Number.isInteger(payload.auth_time) && payload.auth_time >= loginAfter - 5 && payload.auth_time <= payload.iat,
      `auth_time ${payload.auth_time} is the login just made`);
    assert.equal(payload.acr, PASSWORD_ACR);
    assert.deepEqual(payload.amr, ['pwd']);
    return payload;
  }

  /** Nothing but the fragment carries the response; the query of the callback stays empty. */
  function assertFragmentOnly(r) {
    assert.equal(r.url.search, '', `the callback has a query: ${r.location}`);
    for (const k of ['code', 'access_token', 'id_token', 'refresh_token', 'state', 'iss', 'error']) {
      assert.equal(r.query.get(k), null, `${k} in the query: ${r.location}`);
    }
    assert.ok(r.location.startsWith(world.apps.front.callback + '#'), r.location);
  }

  const ID_TOKEN_TYPES = ['id_token', 'id_token token', 'token id_token', 'code id_token', 'id_token code',
    'code id_token token', 'token code id_token'];

  for (const responseType of ID_TOKEN_TYPES) {
    it(`response_type="${responseType}": a verified ID token with nonce, c_hash/at_hash as the response needs, iss and state in the fragment`, async () => {
      const got = await frontChannel(responseType);
      const { r } = got;
      assertFragmentOnly(r);
      const f = r.fragment;
      assert.equal(f.get('iss'), world.issuer, 'RFC 9207 iss in the fragment');
      assert.equal(f.get('state'), got.state);
      assert.equal(f.get('error'), null, r.location);
      const idToken = f.get('id_token');
      assert.ok(idToken, `no id_token in ${r.location}`);
      const want = words(responseType);
      const payload = await verifyIdToken(idToken, { nonce: got.nonce, loginAfter: got.before });

      const code = f.get('code');
      if (want.has('code')) {
        assert.ok(code, `no code in ${r.location}`);
        assert.equal(payload.c_hash, halfHash(code), 'c_hash is the left half of SHA-256 of the code');
      } else {
        assert.equal(code, null, `a code nobody asked for: ${r.location}`);
        assert.ok(!('c_hash' in payload), 'no c_hash without a code');
      }
      const at = f.get('access_token');
      if (want.has('token')) {
        assert.ok(at, `no access_token in ${r.location}`);
        assert.equal(payload.at_hash, halfHash(at), 'at_hash is the left half of SHA-256 of the access token');
        assert.equal(f.get('token_type'), 'Bearer');
        assert.equal(f.get('refresh_token'), null, 'never a refresh token in the front channel');
        const ui = await userinfo(world, at);
        assert.equal(ui.status, 200, show(ui));
        assert.equal(ui.json.sub, payload.sub, 'userinfo sub equals the ID token sub');
      } else {
        assert.equal(at, null, `an access token nobody asked for: ${r.location}`);
        assert.ok(!('at_hash' in payload), 'no at_hash without an access token');
      }

      const logs = world.logs();
      for (const secret of [idToken, at, code]) {
        if (secret) assert.ok(!logs.includes(secret), 'a credential of the fragment appears in the server log');
      }
    });
  }

  for (const responseType of ['code id_token', 'code token', 'code id_token token']) {
    it(`response_type="${responseType}": the code is redeemable once, with PKCE and the secret, and its ID token has the same sub and nonce`, async () => {
      const app = world.apps.front;
      const got = await frontChannel(responseType);
      const f = got.r.fragment;
      const code = f.get('code');
      assert.ok(code, got.r.location);
      const front = f.get('id_token');
      if (responseType === 'code token') assert.equal(front, null, `no id_token asked for: ${got.r.location}`);
      const frontSub = front ? (await verifyIdToken(front, { nonce: got.nonce, loginAfter: got.before })).sub : subjectOf(world.users.alice);

      // PKCE applies to the hybrid code as to any other (RFC 7636 §4.6).
      assertTokenError(await exchangeCode(world, app, { ...got, code }, { verifier: null }), 'invalid_grant');
      const tokens = assertTokenSuccess(await exchangeCode(world, app, { ...got, code }));
      assert.ok(tokens.id_token, `openid was granted: ${JSON.stringify(tokens)}`);
      const back = await verifyIdToken(tokens.id_token, { nonce: got.nonce, loginAfter: got.before });
      assert.equal(back.sub, frontSub, 'the token endpoint ID token has the front channel sub');
      assert.equal(back.nonce, got.nonce);
      assert.equal(back.at_hash, halfHash(tokens.access_token));

      // A replayed code is refused and what was issued with it is revoked (RFC 6749 §4.1.2),
      // the access token of the front channel included.
      assertTokenError(await exchangeCode(world, app, { ...got, code }), 'invalid_grant');
      assertInvalidSession(await userinfo(world, tokens.access_token), 'token of the replayed code:');
      const frontAt = f.get('access_token');
      if (frontAt) assertInvalidSession(await userinfo(world, frontAt), 'front-channel token issued with the replayed code:');
    });
  }

  it('response_type="code token" puts code and access token in the fragment, and no ID token even with openid', async () => {
    const got = await frontChannel('code token');
    assertFragmentOnly(got.r);
    const f = got.r.fragment;
    assert.ok(f.get('code') && f.get('access_token'), got.r.location);
    assert.equal(f.get('id_token'), null, got.r.location);
    assert.equal(f.get('iss'), world.issuer);
    assert.equal(f.get('state'), got.state);
  });

  for (const responseType of ['code token', 'code id_token token', 'token code']) {
    it(`an app without --allow-implicit refuses response_type="${responseType}" (unsupported_response_type in the fragment), before any login`, async () => {
      const got = await getCode(world, {
        // Scopes the app has: the response type is the only thing wrong with the request.
        app: world.apps.plain, responseType, scope: 'openid api', nonce: randomString(), expectCode: false,
      });
      const r = got.result;
      assert.ok(r.location, `expected an error redirect: ${describeResult(r)}`);
      assert.deepEqual(r.pages, [], 'refused before the login page');
      assert.equal(r.url.search, '', `error in the query: ${r.location}`);
      assert.equal(r.fragment.get('error'), 'unsupported_response_type', r.location);
      assert.equal(r.fragment.get('state'), got.state);
      assert.equal(r.fragment.get('iss'), world.issuer);
      for (const k of ['code', 'access_token', 'id_token']) assert.equal(r.params.get(k), null, `${k} leaked: ${r.location}`);
    });
  }

  for (const responseType of ['id_token', 'code id_token', 'id_token token', 'code id_token token']) {
    it(`response_type="${responseType}" without a nonce is invalid_request in the fragment and issues nothing (OIDC Core §3.2.2.1)`, async () => {
      const got = await getCode(world, {
        app: world.apps.front, responseType, scope: SCOPE, expectCode: false,
      });
      const r = got.result;
      assert.ok(r.location, describeResult(r));
      assert.equal(r.url.search, '', r.location);
      assert.equal(r.fragment.get('error'), 'invalid_request', r.location);
      assert.equal(r.fragment.get('state'), got.state);
      assert.equal(r.fragment.get('iss'), world.issuer);
      for (const k of ['code', 'access_token', 'id_token']) assert.equal(r.params.get(k), null, `${k} issued: ${r.location}`);
    });
  }

  it('response_mode=query is refused for responses with tokens; plain code may ask for the fragment', async () => {
    const got = await getCode(world, {
      app: world.apps.front, responseType: 'code id_token', scope: SCOPE, nonce: randomString(),
      expectCode: false, extra: { response_mode: 'query' },
    });
    const r = got.result;
    assert.ok(r.location, describeResult(r));
    assert.equal(r.url.search, '', `nothing in the query: ${r.location}`);
    assert.equal(r.fragment.get('error'), 'invalid_request', r.location);
    for (const k of ['code', 'id_token']) assert.equal(r.params.get(k), null, `${k} issued: ${r.location}`);

    const code = await getCode(world, { app: world.apps.plain, extra: { response_mode: 'fragment' } });
    assert.equal(code.result.url.search, '', code.result.location);
    assert.ok(code.result.fragment.get('code'), code.result.location);
    assert.equal(code.result.fragment.get('iss'), world.issuer);
    assertTokenSuccess(await exchangeCode(world, world.apps.plain, code));
  });

  it('discovery lists every response type', async () => {
    const d = await fetch(`${world.issuer}/.well-known/openid-configuration`).then((x) => x.json());
    const sets = d.response_types_supported.map((t) => [...words(t)].sort().join(' '));
    for (const t of ['code', 'token', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token']) {
      assert.ok(sets.includes(t.split(' ').sort().join(' ')), `${t} in ${JSON.stringify(d.response_types_supported)}`);
    }
  });

  it('login_hint pre-fills the username of the login page (OIDC Core §3.1.2.1), as text, not markup', async () => {
    const b = new Browser(world.issuer);
    const hint = world.users.bob.username;
    const page = await b.load(authorizeUrl(world.issuer, {
      response_type: 'code id_token', client_id: world.apps.front.client_id, redirect_uri: world.apps.front.callback,
      scope: SCOPE, nonce: randomString(), state: 's', login_hint: hint,
    }));
    assert.equal(page.kind, 'login', `${page.page.status} ${page.page.body.slice(0, 300)}`);
    const username = page.forms.flatMap((f) => f.inputs).find((i) => i.name === 'username');
    assert.equal(username?.value, hint, 'the username input carries the hint as its value');

    const odd = 'x"><b id="injected">@localhost';
    const oddPage = await b.load(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.plain.client_id, redirect_uri: world.apps.plain.callback, login_hint: odd,
    }));
    assert.equal(oddPage.forms.flatMap((f) => f.inputs).find((i) => i.name === 'username')?.value, odd);
    assert.ok(!oddPage.page.body.includes('<b id="injected">'), 'the hint is escaped');

    const none = await b.load(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.plain.client_id, redirect_uri: world.apps.plain.callback,
    }));
    assert.equal(none.forms.flatMap((f) => f.inputs).find((i) => i.name === 'username')?.value, '');
  });
});
