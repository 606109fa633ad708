// Several latchkey nodes on one PostgreSQL database (docs/behaviour.md §2): two `latchkey serve`
// processes with the same key-encryption key file answer as one service (the second node is started
// with the first one's issuer, as behind a load balancer). What one node issues, uses up or revokes
// holds at the other: a code issued at one is redeemed at the other; of two concurrent redemptions
// of one code exactly one wins and the replay revokes what the code bought (RFC 6749 §4.1.2); a
// rotated refresh token reused at the other node revokes its family (RFC 9700 §4.14.2); a
// revocation (RFC 7009) is honoured at the other node within milliseconds (the database announces
// it; docs/deployment.md). Then faults, on a PostgreSQL cluster of the test's own
// (scripts/pg-cluster.sh) that it stops and starts (docs/operations.md, "When PostgreSQL is away"):
// under client credentials load every answer is a 200 or a prompt 503 temporarily_unavailable, the
// nodes serve again by themselves once the database is back, /readyz follows the database, every
// token a client received validates at either node, and kill -9 of one node leaves the other
// serving. Runs under LATCHKEY_E2E_DB=postgres (make e2e-postgres); skipped on SQLite.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  startWorld, freePort, adoptDatabase, makeTempDir, ON_POSTGRES,
} from './lib/server.js';
import {
  getCode, exchangeCode, refresh, revoke, introspect, userinfo, tokenRequest, authorizeUrl,
  pkcePair, randomString, assertTokenSuccess, assertTokenError, assertInvalidSession, show, sleep,
} from './lib/oauth.js';

// How long a change made at one node may take to show at another: the database's announcement
// (milliseconds, docs/deployment.md), with slack for a loaded machine; well under the read
// cache's --cache-ms (1 s), which would bound it were the announcements lost.
const CROSS_NODE_BOUND_MS = 500;
// How often the revocation test asks the other node.
const POLL_MS = 20;
// Concurrent redemptions of one code: trials, and trials in flight at once.
const RACE_TRIALS = 100;
const RACES_AT_ONCE = 8;

// The faults' cluster: latchkey's bounds on waiting for PostgreSQL (docs/behaviour.md §2), kept
// short so that a request that waits for them shows; an answer may take both, plus slack.
const POOL_WAIT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1000;
const ANSWER_BOUND_MS = POOL_WAIT_MS + STATEMENT_TIMEOUT_MS + 2000;
// How long the load runs against a stopped database, and how long the nodes have to recover.
const DOWN_MS = 2000;
const RECOVERY_BOUND_MS = 15000;
const LOAD_CLIENTS = 6;

const here = path.dirname(fileURLToPath(import.meta.url));
const PG_CLUSTER = path.resolve(here, '../../scripts/pg-cluster.sh');
const exec = promisify(execFile);
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

  it(`one code redeemed at A and B at once, ${RACE_TRIALS} times: one 200 and one invalid_grant each time, and the replay revokes what the code bought at both nodes within the bound (RFC 6749 §4.1.2)`, async (t) => {
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
      // holds them in its cache, dropped when the revocation is announced.
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

/** scripts/pg-cluster.sh start|stop DIR. */
async function pgCluster(command, dir) {
  await exec(PG_CLUSTER, [command, dir], { timeout: 90000 });
}

/**
 * Client credentials requests in `clients` loops spread over `nodes`, until stop(). Each answer
 * is recorded: node, start and end time, status, error code, the access token of a 200, or the
 * failure when no HTTP answer came (a node killed).
 */
function startLoad(nodes, app, clients) {
  const results = [];
  let stopping = false;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const node = nodes[i % nodes.length];
    while (!stopping) {
      const start = Date.now();
      let r;
      let failure = null;
      try {
        r = await tokenRequest(node.issuer, { grant_type: 'client_credentials' },
          { basic: [app.client_id, app.client_secret] });
      } catch (e) {
        failure = e.cause?.code ?? e.message;
      }
      results.push({
        node: node.name, start, end: Date.now(), status: r?.status, error: r?.json?.error,
        token: r?.status === 200 ? r.json.access_token : null, failure, text: r?.text?.slice(0, 300),
      });
      if (failure) await sleep(20);  // a node that is gone refuses at once
    }
  });
  return {
    results,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** Polls `probe` until `done(result)` or `withinMs`; resolves whether it got there. */
async function within(probe, done, withinMs, everyMs = 50) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (done(await probe())) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Every token introspects as active at every node (8 requests in flight). */
async function assertAllActive(app, tokens, nodes) {
  const pairs = tokens.flatMap((token) => nodes.map((node) => ({ token, node })));
  const inactive = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < pairs.length) {
      const p = pairs[next++];
      const r = await introspect(p.node, app, p.token);
      assert.equal(r.status, 200, `introspection at ${p.node.name}: ${show(r)}`);
      if (r.json.active !== true) inactive.push(`${p.node.name}: ${p.token.slice(0, 12)}…`);
    }
  }));
  assert.deepEqual(inactive, [], `${inactive.length} of ${pairs.length} token checks were not active`);
}

async function readyz(node) {
  const res = await fetch(`${node.issuer}/readyz`, { signal: AbortSignal.timeout(15000) });
  return { status: res.status, json: await res.json() };
}

describe('several nodes when PostgreSQL goes away, and when a node dies (docs/operations.md)', { skip, concurrency: false, timeout: 180000 }, () => {
  let clusterDir;
  let keyDir;
  let world;
  let A;
  let B;
  let serverA;
  let cc;

  before(async () => {
    // Short: the URL names the directory of the server's Unix socket.
    clusterDir = await mkdtemp(path.join(tmpdir(), 'lk-pg-'));
    keyDir = await makeTempDir('latchkey-nodes-');
    await pgCluster('start', clusterDir);
    const url = `postgresql://latchkey@/postgres?host=${clusterDir}`
      + `&pool_wait_ms=${POOL_WAIT_MS}&statement_timeout_ms=${STATEMENT_TIMEOUT_MS}`;
    const kekPath = path.join(keyDir, 'lk.kek');
    adoptDatabase(url, kekPath);
    ({ world, A, B, serverA } = await twoNodes({
      database: { url, kekPath },
      apps: { cc: { scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'] } },
    }, ['--quiet']));
    cc = world.apps.cc;
  });

  after(async () => {
    try {
      await world?.stop();
    } finally {
      if (clusterDir) await pgCluster('stop', clusterDir).catch(() => {});
      if (!process.env.E2E_KEEP_TMP) {
        for (const d of [clusterDir, keyDir]) if (d) await rm(d, { recursive: true, force: true }).catch(() => {});
      }
    }
  });

  it('PostgreSQL stopped and started under load at two nodes: 503 temporarily_unavailable promptly while it is down, never a 500 or a hang; 200 again by itself after; every token handed out validates at either node; /readyz follows', async (t) => {
    assert.deepEqual(await readyz(A), { status: 200, json: { status: 'ready' } });
    const load = startLoad([A, B], cc, LOAD_CLIENTS);
    let downFrom;
    let downUntil;
    let upAt;
    try {
      const served = (node, after = 0) => load.results.some((r) => r.node === node && r.status === 200 && r.start >= after);
      assert.ok(await within(() => served('A') && served('B'), Boolean, 10000), 'both nodes serve before the fault');

      await pgCluster('stop', clusterDir);
      downFrom = Date.now();
      for (const node of [A, B]) {
        assert.ok(await within(() => readyz(node), (r) => r.status === 503, 5000),
          `/readyz at ${node.name} did not turn 503 while PostgreSQL was down`);
        assert.deepEqual(await readyz(node), { status: 503, json: { status: 'unavailable', reason: 'database' } });
      }
      const left = downFrom + DOWN_MS - Date.now();
      if (left > 0) await sleep(left);  // more load against the stopped database
      downUntil = Date.now();

      await pgCluster('start', clusterDir);
      upAt = Date.now();
      for (const node of [A, B]) {
        assert.ok(await within(() => served(node.name, upAt), Boolean, RECOVERY_BOUND_MS),
          `${node.name} did not serve 200 again within ${RECOVERY_BOUND_MS} ms of PostgreSQL's return`);
        assert.ok(await within(() => readyz(node), (r) => r.status === 200, RECOVERY_BOUND_MS),
          `/readyz at ${node.name} did not turn 200 again`);
      }
      await sleep(300);  // a little load on the recovered database
    } finally {
      await load.stop();
    }

    const results = load.results;
    const failed = results.filter((r) => r.failure);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} requests got no HTTP answer`);
    const odd = results.filter((r) => !(r.status === 200 || (r.status === 503 && r.error === 'temporarily_unavailable')));
    assert.deepEqual(odd.slice(0, 5), [], `${odd.length} answers were neither 200 nor 503 temporarily_unavailable`);
    const slow = results.filter((r) => r.end - r.start > ANSWER_BOUND_MS);
    assert.deepEqual(slow.slice(0, 5), [], `${slow.length} answers took over ${ANSWER_BOUND_MS} ms`);
    const whileDown = results.filter((r) => r.start >= downFrom && r.end <= downUntil);
    for (const node of ['A', 'B']) {
      assert.ok(whileDown.some((r) => r.node === node), `no request reached ${node} while PostgreSQL was down`);
    }
    assert.deepEqual(whileDown.filter((r) => r.status !== 503).slice(0, 5), [], 'only 503 while PostgreSQL was down');

    const tokens = results.filter((r) => r.token).map((r) => r.token);
    t.diagnostic(`${results.length} answers: ${tokens.length} tokens, ${results.filter((r) => r.status === 503).length} 503s `
      + `(${whileDown.length} while down), slowest ${Math.max(...results.map((r) => r.end - r.start))} ms; `
      + `200 again ${Math.min(...results.filter((r) => r.status === 200 && r.start >= upAt).map((r) => r.end)) - upAt} ms after the start`);
    await assertAllActive(cc, tokens, [A, B]);
  });

  it('kill -9 of node A under load: node B keeps serving, and every token A handed out validates at B', async (t) => {
    const load = startLoad([A, B], cc, LOAD_CLIENTS);
    let killedAt;
    try {
      const served = (node, after = 0) => load.results.some((r) => r.node === node && r.status === 200 && r.start >= after);
      assert.ok(await within(() => served('A') && served('B'), Boolean, 10000), 'both nodes serve before the kill');
      serverA.child.kill('SIGKILL');
      await serverA.exited;
      killedAt = Date.now();
      assert.ok(await within(() => served('B', killedAt), Boolean, 5000), 'B served after the kill');
      await sleep(500);  // more load on B alone
    } finally {
      await load.stop();
    }
    const atB = load.results.filter((r) => r.node === 'B');
    const bad = atB.filter((r) => r.status !== 200);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${atB.length} requests at B were not answered 200`);
    const fromA = load.results.filter((r) => r.node === 'A' && r.token).map((r) => r.token);
    assert.ok(fromA.length > 0, 'A handed out tokens before it was killed');
    t.diagnostic(`A handed out ${fromA.length} tokens before kill -9; B answered ${atB.length} requests, `
      + `${atB.filter((r) => r.start >= killedAt).length} after it`);
    await assertAllActive(cc, fromA, [B]);
  });
});
