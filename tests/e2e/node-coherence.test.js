// Two nodes on one PostgreSQL database stay in step (docs/deployment.md "What each node
// caches"): what one node or the CLI changes is honoured by the other as soon as the database's
// announcement arrives, not after the cache's max age, which these nodes set to 30 s so that only
// the announcement can explain a prompt answer. Signing keys rotated by the CLI or through node
// A's admin API are published and used by node B without SIGHUP, and a login form one node
// showed is accepted by the other (the nodes share the CSRF key through the key-encryption key).
// PostgreSQL only: SQLite is one node per file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import { startWorld, startServer, cli } from './lib/server.js';
import { ON_POSTGRES } from './lib/database.js';
import { codeFlow, tokenRequest, introspect, revoke, userinfo, show, sleep, authorizeUrl, randomString, pkcePair } from './lib/oauth.js';
import { Browser, parseForms, pageKind } from './lib/driver.js';

// What these tests allow an announcement to take, from the writer's answer to the other node's
// changed answer: far below the 30 s cache age, generous for a loaded 2-core machine.
const PROPAGATION_BOUND_MS = 1000;
const SERVE = { extraArgs: ['--cache-ms', '30000', '--cache-max-ms', '60000'] };

// Polls `probe` every 10 ms until `done` holds; resolves the milliseconds it took, or fails
// after `boundMs`.
async function within(boundMs, probe, done, what) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 <= boundMs) {
    last = await probe();
    if (done(last)) return Date.now() - t0;
    await sleep(10);
  }
  assert.fail(`${what}: not seen within ${boundMs} ms; last answer ${show(last)}`);
}

describe('two nodes on one PostgreSQL', { skip: !ON_POSTGRES && 'PostgreSQL only (make e2e-postgres)', timeout: 90000 }, () => {
  let world;  // node A is world.server
  let nodeB;
  let b;      // world as seen through node B
  before(async () => {
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' },
      },
      apps: { web: { scopes: 'api refresh_token openid' } },
      // Node A also serves the admin API (docs/admin-api.md), to rotate a key through it.
      serve: { extraArgs: [...SERVE.extraArgs, '--admin-listen', '127.0.0.1:0'] },
    });
    nodeB = await startServer(world.db, SERVE);
    b = { ...world, issuer: nodeB.issuer, server: nodeB };
  });
  after(async () => {
    await nodeB?.stop();
    await world?.stop();
  });

  it('a token revoked at node A is refused at node B within the bound, not the cache age', async () => {
    const app = world.apps.web;
    const { tokens } = await codeFlow(world, { app, scope: 'api refresh_token' });
    const cached = await introspect(b, app, tokens.access_token);
    assert.equal(cached.json.active, true, show(cached));  // node B now holds it in memory
    const r = await revoke(world, tokens.access_token);
    assert.equal(r.status, 200, show(r));
    const ms = await within(PROPAGATION_BOUND_MS, () => introspect(b, app, tokens.access_token),
      (x) => x.json?.active === false, 'revocation at node B');
    assert.ok(ms <= PROPAGATION_BOUND_MS);
  });

  it('a user deactivated by the CLI loses access at both nodes within the bound', async () => {
    const app = world.apps.web;
    const bob = world.users.bob;
    const { tokens } = await codeFlow(world, { app, user: bob, scope: 'api openid' });
    for (const node of [world, b]) {
      const ui = await userinfo(node, tokens.access_token);
      assert.equal(ui.status, 200, show(ui));
    }
    await cli(world.db, ['user', 'update', '--username', bob.username, '--active', 'false']);
    for (const node of [world, b]) {
      await within(PROPAGATION_BOUND_MS, () => userinfo(node, tokens.access_token),
        (x) => x.status === 401, `deactivation at ${node.issuer}`);
    }
  });

  it('keys rotated by the CLI are published by node B and sign its ID tokens, without SIGHUP', async () => {
    const app = world.apps.web;
    const out = await cli(world.db, ['keys', 'rotate', '--alg', 'RS256']);
    const kid = out.rotated.kid;
    assert.ok(kid);
    await within(PROPAGATION_BOUND_MS * 2, async () => (await fetch(`${b.issuer}/id/keys`)).json(),
      (jwks) => jwks.keys.some((k) => k.kid === kid), 'the new key in node B\'s JWKS');
    const { tokens } = await codeFlow(b, { app, scope: 'api openid', nonce: randomString() });
    assert.equal(decodeProtectedHeader(tokens.id_token).kid, kid);
  });

  it('a key rotated through node A\'s admin API signs A\'s ID tokens at once, and is published by node B and signs its ID tokens within the bound', async () => {
    const app = world.apps.web;
    const { token } = await cli(world.db, ['admin-token', 'create', '--name', 'key-rotator']);
    const res = await fetch(`${world.server.adminUrl}/admin/v1/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alg: 'RS256' }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const kid = body.rotated.kid;
    assert.ok(kid, JSON.stringify(body));
    const atA = await codeFlow(world, { app, scope: 'api openid', nonce: randomString() });
    assert.equal(decodeProtectedHeader(atA.tokens.id_token).kid, kid, 'node A signs with the key it made');
    await within(PROPAGATION_BOUND_MS * 2, async () => (await fetch(`${b.issuer}/id/keys`)).json(),
      (jwks) => jwks.keys.some((k) => k.kid === kid), 'the new key in node B\'s JWKS');
    const atB = await codeFlow(b, { app, scope: 'api openid', nonce: randomString() });
    assert.equal(decodeProtectedHeader(atB.tokens.id_token).kid, kid, 'node B signs with the key A made');
  });

  it('wrong client secrets sent to node A delay the same client at node B', async () => {
    const app = world.apps.web;
    const cc = (node, secret) => tokenRequest(node.issuer, {
      grant_type: 'refresh_token', refresh_token: 'unknown', client_id: app.client_id, client_secret: secret,
    });
    // Five free failures per (client, address), then a delay (docs/behaviour.md §5).
    for (let i = 0; i < 5; i++) {
      const r = await cc(world, 'wrong-secret');
      assert.equal(r.json?.error, 'invalid_client', show(r));
    }
    // The delay starts at 1 s where the count reaches five; node B hears of it within
    // milliseconds, so a moment later the right secret is held back there too.
    await sleep(200);
    const atB = await cc(b, app.client_secret);
    assert.equal(atB.json?.error, 'invalid_client', show(atB));
    assert.match(atB.json?.error_description ?? '', /too many failed attempts/, show(atB));
  });

  it('a login form shown by node A is accepted when posted to node B', async () => {
    const app = world.apps.web;
    const alice = world.users.alice;
    const browser = new Browser(world.issuer);
    const pair = pkcePair();
    const url = authorizeUrl(world.issuer, {
      response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state: 's1',
      code_challenge: pair.challenge, code_challenge_method: 'S256', scope: 'api',
    });
    const page = await browser.get(url);
    const forms = parseForms(page.body, page.url);
    assert.equal(pageKind(forms), 'login', page.body.slice(0, 300));
    const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
    const body = new URLSearchParams();
    for (const [k, v] of form.fields) body.append(k, v);
    body.set('username', alice.username);
    body.set('password', alice.password);
    const action = new URL(form.action);
    const atB = new URL(action.pathname + action.search, b.issuer);
    const res = await fetch(atB, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.jar.header(form.action) },
      body: body.toString(),
    });
    const text = await res.text();
    // Logged in: node B moves on (to consent or the callback) instead of refusing the form.
    assert.ok(res.status === 302 || /name="decision"/.test(text),
      `node B refused node A's form: ${res.status} ${text.slice(0, 300)}`);
  });
});
