// docs/operations.md "Draining": SIGTERM makes /readyz answer 503 "draining" at once on both
// listeners, the server goes on accepting for --drain-delay-ms, then stops accepting, answers
// the requests in flight (within --drain-timeout-ms) and exits 0. Health probes stay out of the
// access log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startWorld } from './lib/server.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A token request sent in two parts over a raw connection: the head and half the body now, the
// rest when the test says. Resolves the raw answer once the server closes the connection.
function heldTokenRequest(port, clientId, secret) {
  const body = 'grant_type=client_credentials&scope=api';
  const head = 'POST /services/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n'
    + `Authorization: Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}\r\n`
    + 'Content-Type: application/x-www-form-urlencoded\r\n'
    + `Content-Length: ${body.length}\r\n\r\n`;
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (c) => { answer += c; });
  const done = new Promise((resolve, reject) => {
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  const sent = new Promise((resolve) => socket.once('connect', () => {
    socket.write(head + body.slice(0, half), resolve);
  }));
  return { sent, finish: () => socket.write(body.slice(half)), done };
}

async function readyz(base) {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, json: await res.json() };
}

// Resolves true once a new connection to `port` is refused (the listener closed).
async function refusedWithin(port, ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const refused = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', (e) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await sleep(50);
  }
  return false;
}

describe('SIGTERM drains', { timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      users: { bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' } },
      apps: { cc: { scopes: 'api', extra: ['--client-credentials-user', 'bob@localhost'] } },
      serve: { extraArgs: ['--drain-delay-ms', '1500', '--metrics-listen', '127.0.0.1:0'] },
    });
  });

  after(async () => { await world?.stop(); });

  it('/readyz 503 draining at once, new connections served for the delay, then refused; the request in flight answered; exit 0', async () => {
    const metricsBase = world.server.metricsUrl.replace(/\/metrics$/, '');
    assert.deepEqual(await readyz(world.issuer), { status: 200, json: { status: 'ready' } });
    const port = Number(new URL(world.issuer).port);
    const { cc } = world.apps;
    const held = heldTokenRequest(port, cc.client_id, cc.client_secret);
    await held.sent;
    await sleep(100);  // the server is reading the body

    const t0 = Date.now();
    world.server.child.kill('SIGTERM');
    // At once, on both listeners; liveness is unchanged.
    const draining = { status: 503, json: { status: 'unavailable', reason: 'draining' } };
    let first;
    for (let i = 0; i < 50; i++) {
      first = await readyz(world.issuer);
      if (first.status === 503) break;
      await sleep(10);
    }
    assert.deepEqual(first, draining);
    assert.ok(Date.now() - t0 < 1000, `draining reported after ${Date.now() - t0} ms`);
    assert.deepEqual(await readyz(metricsBase), draining);
    assert.equal((await fetch(`${world.issuer}/healthz`)).status, 200);
    // Still accepting during the delay: a new request is served in full.
    const during = await fetch(`${world.issuer}/.well-known/openid-configuration`);
    assert.equal(during.status, 200);
    assert.equal(during.headers.get('connection'), 'close', 'responses while draining close their connection');

    assert.ok(await refusedWithin(port, 5000), 'the listener never closed');
    const closedAfter = Date.now() - t0;
    assert.ok(closedAfter >= 1400, `the listener closed after ${closedAfter} ms, before --drain-delay-ms 1500`);
    assert.equal(world.server.child.exitCode, null, 'exited with a request in flight');

    // The request in flight since before SIGTERM is answered in full.
    held.finish();
    const answer = await held.done;
    assert.match(answer, /^HTTP\/1\.1 200 /, answer.slice(0, 300));
    const token = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.ok(token.access_token, answer);

    const r = await world.server.stop();
    assert.equal(r.code, 0);
    assert.equal(r.killed, false);

    // Probes are not in the access log; the requests around them are.
    const logs = world.logs();
    assert.match(logs, /method=POST path=\/services\/oauth2\/token status=200/);
    assert.doesNotMatch(logs, /path=\/readyz|path=\/healthz/);
  });
});

describe('--drain-timeout-ms bounds the wait for requests in flight', { timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({ serve: { extraArgs: ['--drain-timeout-ms', '500', '--log-health-checks'] } });
  });

  after(async () => { await world?.stop(); });

  it('a request that never completes is cut after the timeout and the process exits 0', async () => {
    assert.equal((await readyz(world.issuer)).status, 200);
    const port = Number(new URL(world.issuer).port);
    const held = heldTokenRequest(port, 'nobody', 'nothing');
    await held.sent;
    await sleep(100);
    const t0 = Date.now();
    world.server.child.kill('SIGTERM');
    const code = await world.server.exited;
    const ms = Date.now() - t0;
    assert.equal(code.code, 0);
    assert.ok(ms >= 450, `exited after ${ms} ms, before --drain-timeout-ms 500`);
    assert.ok(ms < 5000, `exited after ${ms} ms`);
    assert.equal(await held.done, '', 'the unfinished request got no answer');
    assert.match(world.logs(), /1 connection\(s\) still busy after 500 ms; closing them/);
    // --log-health-checks: the probe is in the access log.
    assert.match(world.logs(), /method=GET path=\/readyz status=200/);
  });
});
