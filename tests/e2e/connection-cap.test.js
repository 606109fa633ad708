// The cap on concurrent connections (issue 4 §4, `serve --max-connections`): connections
// beyond it get a clear 503 temporarily_unavailable with Retry-After instead of a stalled
// accept, and capacity comes back as connections close. Its own server, capped at 4: the other
// files' servers must not be held to it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startWorld, run } from './lib/server.js';
import { sleep } from './lib/oauth.js';

const CAP = 4;

/** A raw keep-alive HTTP/1.1 connection: one request at a time, responses read by Content-Length. */
class Conn {
  /** `localAddress`: the client address to connect from (all of 127.0.0.0/8 is loopback). */
  static open(port, localAddress = undefined) {
    return new Promise((resolve, reject) => {
      const c = new Conn();
      c.socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(c));
      c.socket.once('error', reject);
      c.socket.on('data', (d) => { c.buffer = Buffer.concat([c.buffer, d]); c.wake(); });
      c.socket.on('close', () => { c.closed = true; c.wake(); });
      c.socket.on('error', () => {});
    });
  }

  constructor() {
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    this.waiters = [];
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until(done, ms, what) {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, left); });
    }
  }

  /** Sends a GET and resolves the parsed response, or rejects if none comes within 5 s. */
  async get(path) {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    let head;
    await this.until(() => {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return this.closed;
      const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(lines.slice(1).map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
      }));
      const length = Number(headers.get('content-length') ?? 0);
      if (this.buffer.length < end + 4 + length) return this.closed;
      head = { status: Number(lines[0].split(' ')[1]), headers, start: end + 4, length };
      return true;
    }, 5000, `a response to GET ${path}`);
    if (!head) throw new Error(`connection closed without a response to GET ${path}`);
    const body = this.buffer.subarray(head.start, head.start + head.length).toString('utf8');
    this.buffer = this.buffer.subarray(head.start + head.length);
    let json;
    try { json = JSON.parse(body); } catch { json = undefined; }
    return { status: head.status, headers: head.headers, body, json };
  }

  close() {
    this.socket.end();
    this.socket.destroySoon?.();
  }
}

// Closes the first of `held` and waits until a new connection (from `connect`) is served at
// `path`: the server notices a close on its own time, so a new connection may be refused once or
// twice first (a 503, or closed unanswered over the per-address cap).
async function slotReturnsAfterClosing(held, connect, path) {
  held[0].close();
  await held[0].until(() => held[0].closed, 5000, 'the closed connection to go');
  let later;
  const deadline = Date.now() + 5000;
  for (;;) {
    const c = await connect();
    later = await c.get(path).catch((e) => ({ status: 0, body: String(e) }));
    if (later.status === 200 || Date.now() > deadline) break;
    c.socket.destroy();
    await sleep(100);
  }
  assert.equal(later.status, 200, `after closing one: ${later.status} ${later.body.slice(0, 200)}`);
}

describe(`connection cap (serve --max-connections ${CAP})`, { timeout: 60000 }, () => {
  let world;
  let port;
  const open = [];

  before(async () => {
    world = await startWorld({ serve: { extraArgs: ['--max-connections', String(CAP)] } });
    port = Number(new URL(world.issuer).port);
  });
  after(async () => {
    for (const c of open) c.socket.destroy();
    await world?.stop();
  });

  async function connect() {
    const c = await Conn.open(port);
    open.push(c);
    return c;
  }

  it('the start-up log states the effective cap', () => {
    assert.match(world.logs(), new RegExp(`serving at most ${CAP} connections \\(--max-connections ${CAP}, open files limit \\d+ of \\d+\\)`),
      world.logs().slice(0, 2000));
  });

  it(`${CAP} keep-alive connections are served, the next gets 503 temporarily_unavailable with Retry-After, and a new one is served once one closes`, async () => {
    const held = [];
    for (let i = 0; i < CAP; i++) {
      const c = await connect();
      const r = await c.get('/.well-known/openid-configuration');
      assert.equal(r.status, 200, `connection ${i + 1}: ${r.status} ${r.body.slice(0, 200)}`);
      assert.notEqual((r.headers.get('connection') ?? '').toLowerCase(), 'close', `connection ${i + 1} is kept alive`);
      held.push(c);
    }

    const extra = await connect();
    const refused = await extra.get('/.well-known/openid-configuration');
    assert.equal(refused.status, 503, `over the cap: ${refused.status} ${refused.body.slice(0, 200)}`);
    const retryAfter = refused.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^[1-9][0-9]*$/, `Retry-After: ${retryAfter}`);
    assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(refused.json?.error, 'temporarily_unavailable', refused.body);
    assert.equal(typeof refused.json?.error_description, 'string', refused.body);
    await extra.until(() => extra.closed, 5000, 'the server to close the refused connection');

    // The held connections are still served.
    for (const [i, c] of held.entries()) {
      assert.equal((await c.get('/id/keys')).status, 200, `held connection ${i + 1}`);
    }

    // Capacity comes back once a connection closes.
    await slotReturnsAfterClosing(held, () => connect(), '/.well-known/openid-configuration');
  });

  it('--max-connections must be at least 1', async () => {
    const r = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--max-connections', '0']);
    assert.notEqual(r.code, 0, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr + r.stdout, /max-connections/);
  });
});

// With the open-file limit most systems start a process with, the default cap of 10,000 would
// never be reached: accept() would fail with EMFILE and connections would hang unanswered.
// `serve` raises the soft limit to the hard one and lowers the cap to fit under it.
describe('connection cap under a low open-file limit (soft 200, hard 400)', { timeout: 60000 }, () => {
  let world;
  let port;
  let cap;
  const open = [];

  before(async () => {
    world = await startWorld({
      serve: {
        launcher: ['sh', '-c', 'ulimit -S -n 200 && ulimit -H -n 400 && exec "$@"', 'sh'],
        // Every connection here comes from 127.0.0.1: the per-address cap is not under test.
        extraArgs: ['--max-connections-per-address', '1000'],
      },
    });
    port = Number(new URL(world.issuer).port);
  });
  after(async () => {
    for (const c of open) c.socket.destroy();
    await world?.stop();
  });

  it('the soft limit is raised to the hard one and the cap fits under it', () => {
    const m = /serving at most (\d+) connections \(--max-connections 10000, open files limit (\d+) of (\d+)\)/.exec(world.logs());
    assert.ok(m, world.logs().slice(0, 2000));
    assert.equal(Number(m[2]), 400, 'soft limit raised to the hard limit');
    assert.equal(Number(m[3]), 400);
    cap = Number(m[1]);
    assert.ok(cap >= 100 && cap < 400, `cap ${cap}`);
  });

  it('every connection gets an answer: up to the cap they are served, beyond it 503, none hangs', async () => {
    // Held open one after another until the first 503: without a cap under the limit, accept()
    // runs out of descriptors first and the next connection hangs (Conn.get gives up after 5 s).
    let served = 0;
    for (;;) {
      assert.ok(served < 400, `${served} connections served under an open-file limit of 400`);
      const c = await Conn.open(port);
      open.push(c);
      const r = await c.get('/.well-known/openid-configuration');
      if (r.status === 503) break;
      assert.equal(r.status, 200, `connection ${served + 1}: ${r.status} ${r.body.slice(0, 200)}`);
      served++;
    }
    if (cap) assert.equal(served, cap, 'served exactly the cap from the start-up log');
    for (let i = 0; i < 30; i++) {
      const c = await Conn.open(port);
      open.push(c);
      const r = await c.get('/.well-known/openid-configuration');
      assert.equal(r.status, 503, `connection ${served + i + 2}: ${r.status} ${r.body.slice(0, 200)}`);
      assert.equal(r.json?.error, 'temporarily_unavailable', r.body);
      c.socket.destroy();
    }
  });
});

// One client cannot hold every slot: each client address (an IPv4 address, an IPv6 /64) may hold
// at most --max-connections-per-address connections; one more is closed at once, unanswered,
// while other addresses are still served.
describe('connection cap per client address (serve --max-connections-per-address 3)', { timeout: 60000 }, () => {
  const PER_ADDRESS = 3;
  let world;
  let port;
  const open = [];

  before(async () => {
    world = await startWorld({ serve: { extraArgs: ['--max-connections-per-address', String(PER_ADDRESS), '--metrics-listen', '127.0.0.1:0'] } });
    port = Number(new URL(world.issuer).port);
  });
  after(async () => {
    for (const c of open) c.socket.destroy();
    await world?.stop();
  });

  async function connect(from) {
    const c = await Conn.open(port, from);
    open.push(c);
    return c;
  }

  it('the start-up log states the per-address cap', () => {
    assert.match(world.logs(), new RegExp(`at most ${PER_ADDRESS} connections per client address`),
      world.logs().slice(0, 2000));
  });

  it(`${PER_ADDRESS} connections from one address are served, the next is closed unanswered, and another address is still served`, async () => {
    const held = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      const c = await connect('127.0.0.2');
      assert.equal((await c.get('/id/keys')).status, 200, `connection ${i + 1}`);
      held.push(c);
    }
    const extra = await connect('127.0.0.2');
    await assert.rejects(extra.get('/id/keys'), /closed without a response/);
    const metrics = await (await fetch(world.server.metricsUrl)).text();
    assert.match(metrics, /^latchkey_connections_refused_total\{reason="per_address"\} 1$/m, metrics);

    const other = await connect('127.0.0.3');
    assert.equal((await other.get('/id/keys')).status, 200, 'another address');
    for (const [i, c] of held.entries()) {
      assert.equal((await c.get('/id/keys')).status, 200, `held connection ${i + 1}`);
    }

    // The slot comes back once one of the address's connections closes.
    await slotReturnsAfterClosing(held, () => connect('127.0.0.2'), '/id/keys');
  });

  it('--max-connections-per-address must be at least 1', async () => {
    const r = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--max-connections-per-address', '0']);
    assert.notEqual(r.code, 0, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr + r.stdout, /max-connections-per-address/);
  });
});
