// Several latchkey nodes on one PostgreSQL database (docs/behaviour.md §2): two `latchkey serve`
// processes with the same key-encryption key file answer as one service (the second node is
// started with the first one's issuer, as behind a load balancer). What one node issues, uses up
// or revokes holds at the other: a code issued at one is redeemed at the other; of two
// concurrent redemptions of one code exactly one wins and the replay revokes what the code
// bought (RFC 6749 §4.1.2); a rotated refresh token reused at the other node revokes its family
// (RFC 9700 §4.14.2); a revocation (RFC 7009) is honoured at the other node within the read
// cache's bound. Runs under LATCHKEY_E2E_DB=postgres (make e2e-postgres); skipped on SQLite.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, freePort, ON_POSTGRES } from './lib/server.js';
import {
  getCode, exchangeCode, refresh, revoke, introspect, userinfo, authorizeUrl, pkcePair,
  randomString, assertTokenSuccess, assertTokenError, assertInvalidSession, show, sleep,
} from './lib/oauth.js';

// How long a change made at one node may take to show at another: the read cache's --cache-ms
// (1 s by default, docs/behaviour.md §2), plus slack for a loaded machine. Tighten it once the
// nodes tell each other of changes.
const CACHE_MS = 1000;
const CROSS_NODE_BOUND_MS = CACHE_MS + 500;
// How often the revocation test asks the other node.
const POLL_MS = 20;
// Concurrent redemptions of one code: trials, and trials in flight at once.
const RACE_TRIALS = 100;
const RACES_AT_ONCE = 8;

const skip = ON_POSTGRES ? false
  : 'several nodes share a PostgreSQL database; LATCHKEY_E2E_DB=postgres (make e2e-postgres) runs this';

/** A node as lib/oauth.js helpers take it: the world, with `issuer` its base URL. */
function nodeAt(world, base, name) {
  return { ...world, issuer: base, name };
}

/**
 * Two nodes on the world's database: A is the world's server, B another `latchkey serve` with
 * A's issuer (so both mint the same `iss` and `id` URLs) on a port of its own.
 */
async function twoNodes(spec, serveArgs = []) {
  const portA = await freePort();
  const world = await startWorld({ ...spec, serve: { listen: `127.0.0.1:${portA}`, extraArgs: serveArgs } });
  const portB = await freePort();
  const serverB = await world.startNode({
    listen: `127.0.0.1:${portB}`, extraArgs: ['--issuer', world.issuer, ...serveArgs],
  });
  return {
    world,
    A: nodeAt(world, world.issuer, 'A'),
    B: nodeAt(world, `http://127.0.0.1:${portB}`, 'B'),
    serverA: world.server,
    serverB,
  };
}

/**
 * A code minted with a signed-in browser's cookie at `node` (consent already given): GET
 * authorize answers 302 to the callback at once.
 */
async function mintCode(node, app, cookie) {
  const pair = pkcePair();
  const state = randomString(8);
  const res = await fetch(authorizeUrl(node.issuer, {
    response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state,
    scope: app.scopes, code_challenge: pair.challenge, code_challenge_method: 'S256',
  }), { headers: { cookie }, redirect: 'manual', signal: AbortSignal.timeout(15000) });
  const location = res.headers.get('location');
  assert.equal(res.status, 302, `authorize at ${node.name}: HTTP ${res.status} ${await res.text()}`);
  const code = new URL(location).searchParams.get('code');
  assert.ok(code, `no code in ${location}`);
  return { code, verifier: pair.verifier, redirectUri: app.callback };
}

/** Resolves `promise`'s value with the time it came. */
async function timed(promise) {
  const r = await promise;
  return { r, at: Date.now() };
}

/**
 * Introspects each token at each node until every one says active:false, or `deadline` passes;
 * resolves the pairs still active then ([] when none) and, per pair, when it was first seen
 * inactive.
 */
async function untilInactive(app, tokens, nodes, deadline, everyMs) {
  let left = tokens.flatMap((token) => nodes.map((node) => ({ token, node })));
  const seen = [];
  for (;;) {
    const answers = await Promise.all(left.map(async (p) => ({ p, ...await timed(introspect(p.node, app, p.token)) })));
    left = [];
    for (const { p, r, at } of answers) {
      assert.equal(r.status, 200, `introspection at ${p.node.name}: ${show(r)}`);
      if (r.json.active === false) seen.push({ ...p, at });
      else left.push(p);
    }
    if (left.length === 0 || Date.now() >= deadline) return { left, seen };
    await sleep(everyMs);
  }
}

describe('several nodes on one PostgreSQL database (docs/behaviour.md §2)', { skip, concurrency: false, timeout: 120000 }, () => {
  let world;
  let A;
  let B;
  let web;
  let rot;
  let cookie;

  before(async () => {
    ({ world, A, B } = await twoNodes({
      apps: {
        web: { scopes: 'api refresh_token openid', refreshPolicy: 'until-revoked' },
        rot: { scopes: 'api refresh_token openid', refreshPolicy: 'rotate' },
      },
    }));
    ({ web, rot } = world.apps);
  });

  after(async () => { await world?.stop(); });

  it('a code issued through node A (authorize and login at A) is redeemed at node B', async () => {
    const got = await getCode(A, { app: web, scope: web.scopes });
    cookie = got.browser.jar.header(`${A.issuer}/services/oauth2/authorize`);
    assert.ok(cookie, 'the login at A left a session cookie');
    const tokens = assertTokenSuccess(await exchangeCode(B, web, got));
    assert.equal(tokens.instance_url, A.issuer, 'both nodes answer as one issuer');
    for (const node of [A, B]) {
      const r = await userinfo(node, tokens.access_token);
      assert.equal(r.status, 200, `userinfo at ${node.name}: ${show(r)}`);
      assert.equal(r.json.user_id, world.users.alice.user_id);
    }
    // The code is used up at both nodes.
    assertTokenError(await exchangeCode(A, web, got), 'invalid_grant');
  });

  it(`one code redeemed at A and B at once, ${RACE_TRIALS} times: one 200 and one invalid_grant each time, and the replay revokes what the code bought at both nodes within the cache bound (RFC 6749 §4.1.2)`, async (t) => {
    assert.ok(cookie, 'the first test signed in');
    // The codes come from either node: the browser's session is in the shared database.
    const trial = async (i) => {
      const got = await mintCode(i % 2 ? B : A, web, cookie);
      const [a, b] = await Promise.all([timed(exchangeCode(A, web, got)), timed(exchangeCode(B, web, got))]);
      const winners = [a, b].filter((x) => x.r.status === 200);
      assert.equal(winners.length, 1, `trial ${i}: A ${show(a.r)}; B ${show(b.r)}`);
      const loser = winners[0] === a ? b : a;
      assertTokenError(loser.r, 'invalid_grant');
      const tokens = assertTokenSuccess(winners[0].r);
      assert.ok(tokens.refresh_token, `trial ${i}: no refresh token`);
      // The losing redemption revoked the winner's tokens as it answered; the winning node
      // holds them in its cache, read again within the cache bound.
      const { left, seen } = await untilInactive(web, [tokens.access_token, tokens.refresh_token], [A, B],
        loser.at + CROSS_NODE_BOUND_MS, 50);
      assert.deepEqual(left.map((p) => `${p.node.name}: ${p.token.slice(0, 12)}…`), [],
        `trial ${i}: still active ${CROSS_NODE_BOUND_MS} ms after the replay was refused`);
      return Math.max(...seen.map((s) => s.at - loser.at));
    };
    let next = 0;
    const delays = [];
    await Promise.all(Array.from({ length: RACES_AT_ONCE }, async () => {
      while (next < RACE_TRIALS) delays.push(await trial(next++));
    }));
    assert.equal(delays.length, RACE_TRIALS);
    t.diagnostic(`revoked at both nodes at most ${Math.max(...delays)} ms after the replay was refused`);
  });

  it('a refresh token rotated at A and then reused at B revokes the family: the new refresh token is refused at A and at B (RFC 9700 §4.14.2)', async () => {
    const got = await getCode(A, { app: rot, scope: rot.scopes });
    const first = assertTokenSuccess(await exchangeCode(A, rot, got));
    const second = assertTokenSuccess(await refresh(A, rot, first.refresh_token));
    assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token, 'rotated');
    // The new refresh token is looked up at A (introspected here), so A holds a copy of it in
    // its cache that says it is neither rotated nor revoked: the worst case for what follows.
    assert.equal((await introspect(A, rot, second.refresh_token)).json.active, true);
    assertTokenError(await refresh(B, rot, first.refresh_token), 'invalid_grant');
    // At once, at the node that issued it too: its copy in A's cache is not what decides.
    assertTokenError(await refresh(A, rot, second.refresh_token), 'invalid_grant');
    assertTokenError(await refresh(B, rot, second.refresh_token), 'invalid_grant');
    const { left } = await untilInactive(rot, [second.refresh_token, second.access_token, first.access_token],
      [A, B], Date.now() + CROSS_NODE_BOUND_MS, 50);
    assert.deepEqual(left.map((p) => p.node.name), [], 'the family is inactive at both nodes');
  });

  it(`a token revoked at A (RFC 7009) is refused at B within ${CROSS_NODE_BOUND_MS} ms`, async (t) => {
    const got = await getCode(A, { app: web, scope: web.scopes });
    const { access_token: token } = assertTokenSuccess(await exchangeCode(A, web, got));
    // B has just served it, so B holds it in its cache: the slowest case.
    assert.equal((await userinfo(B, token)).status, 200);
    const r = await revoke(A, token);
    assert.equal(r.status, 200, show(r));
    const revokedAt = Date.now();
    assertInvalidSession(await userinfo(A, token), 'at the node that revoked it, at once:');
    let delay;
    for (;;) {
      const u = await userinfo(B, token);
      if (u.status === 401) {
        delay = Date.now() - revokedAt;
        assertInvalidSession(u, 'at B:');
        break;
      }
      assert.equal(u.status, 200, `userinfo at B: ${show(u)}`);
      assert.ok(Date.now() - revokedAt <= CROSS_NODE_BOUND_MS + 5000, 'B never refused the revoked token');
      await sleep(POLL_MS);
    }
    t.diagnostic(`B refused the revoked token ${delay} ms after A revoked it`);
    assert.ok(delay <= CROSS_NODE_BOUND_MS, `B refused the token only ${delay} ms after the revocation`);
  });
});
