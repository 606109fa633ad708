// docs/behaviour.md §6 bad input: size limits (headers 16 KiB, body 64 KiB), malformed requests get a
// clear 4xx, and the server keeps serving afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startWorld } from './lib/server.js';
import { tokenRequest, httpGet, show } from './lib/oauth.js';

/** Sends raw bytes, resolves {status, head, body, raw} of the first response (or status 0). */
function rawRequest(issuer, chunks, { timeoutMs = 10000, pauseMs = 300 } = {}) {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    const bufs = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(bufs).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const split = raw.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, head: split >= 0 ? raw.slice(0, split) : raw, body: split >= 0 ? raw.slice(split + 4) : '', raw });
    };
    const timer = setTimeout(() => {
      if (bufs.length) finish();
      else { done = true; sock.destroy(); reject(new Error(`no response within ${timeoutMs} ms`)); }
    }, timeoutMs);
    sock.on('data', (d) => {
      bufs.push(d);
      const raw = Buffer.concat(bufs).toString('latin1');
      const split = raw.indexOf('\r\n\r\n');
      if (split >= 0) {
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, split));
        if (cl && Buffer.byteLength(raw.slice(split + 4), 'latin1') >= Number(cl[1])) finish();
      }
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', () => finish()); // a reset after the response is fine; no response → status 0
    sock.on('connect', async () => {
      try {
        for (const [i, c] of chunks.entries()) {
          if (done || bufs.length) break; // the server already answered (e.g. an early 413)
          await new Promise((r) => sock.write(c, () => r()));
          if (i === 0 && chunks.length > 1) await new Promise((r) => setTimeout(r, pauseMs));
        }
      } catch { /* peer closed early */ }
    });
  });
}

/** Sends raw bytes on one connection and resolves everything the server sends until it closes
 * (or `timeoutMs` passes: then `closed` is false). `end`: shut down the sending side after the
 * bytes, as a client that stops mid-request does. */
function rawExchange(issuer, bytes, { timeoutMs = 5000, end = false } = {}) {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve) => {
    const sock = net.connect({ host: hostname, port: Number(port) }, () => {
      sock.write(bytes);
      if (end) sock.end();
    });
    const bufs = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(bufs).toString('latin1');
      resolve({ raw, closed, responses: raw.match(/HTTP\/1\.[01] \d{3} /g) ?? [] });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => bufs.push(d));
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

describe('bad input (docs/behaviour.md §6)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({ apps: { web: { scopes: 'api refresh_token' } } });
  });
  after(async () => { await world?.stop(); });

  async function assertAlive(what) {
    const r = await httpGet(`${world.issuer}/.well-known/openid-configuration`);
    assert.equal(r.status, 200, `server not serving after ${what}: ${show(r)}`);
    assert.equal(world.server.child.exitCode, null, `server exited after ${what}`);
  }

  const host = () => new URL(world.issuer).host;

  it('17 KiB of request headers (17 fields of 1 KiB) → 431, and the server keeps serving', async () => {
    const filler = 'x'.repeat(1024);
    let headers = '';
    for (let i = 0; i < 17; i++) headers += `X-Filler-${i}: ${filler}\r\n`;
    const head = `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host()}\r\n${headers}Connection: close\r\n\r\n`;
    assert.ok(head.length > 17 * 1024);
    const r = await rawRequest(world.issuer, [head]);
    assert.equal(r.status, 431, `expected 431 for ${head.length} bytes of request head, got: ${r.head.slice(0, 200)}`);
    await assertAlive('431');
  });

  it('one 17 KiB header field → 431, and the server keeps serving', async () => {
    const head = `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'y'.repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`;
    const r = await rawRequest(world.issuer, [head]);
    assert.equal(r.status, 431, `expected 431, got: ${r.head.slice(0, 200)}`);
    await assertAlive('431');
  });

  it('headers just under 16 KiB are accepted', async () => {
    const filler = 'x'.repeat(1000);
    let headers = '';
    for (let i = 0; i < 14; i++) headers += `X-Filler-${i}: ${filler}\r\n`;
    const r = await rawRequest(world.issuer, [`GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host()}\r\n${headers}Connection: close\r\n\r\n`]);
    assert.equal(r.status, 200, r.head.slice(0, 200));
  });

  it('a request line over 16 KiB → 414 or 431, and the server keeps serving', async () => {
    const r = await rawRequest(world.issuer, [`GET /services/oauth2/authorize?state=${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`]);
    assert.ok([414, 431].includes(r.status), `expected 414/431, got: ${r.head.slice(0, 200)}`);
    await assertAlive('a long request line');
  });

  it('a 65 KiB body → 413, and the server keeps serving', async () => {
    const body = 'grant_type=authorization_code&code=' + 'a'.repeat(65 * 1024);
    const r = await rawRequest(world.issuer, [
      `POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      body,
    ]);
    assert.equal(r.status, 413, `expected 413, got: ${r.head.slice(0, 200)}`);
    await assertAlive('413');
  });

  it('a 65 KiB chunked body → 413, and the server keeps serving', async () => {
    const chunk = 'a'.repeat(8192);
    const parts = [`POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`];
    const first = 'grant_type=authorization_code&';
    parts.push(`${first.length.toString(16)}\r\n${first}\r\n`);
    for (let i = 0; i < 9; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    parts.push('0\r\n\r\n');
    const r = await rawRequest(world.issuer, parts);
    assert.ok([413, 400].includes(r.status), `expected 413 (or 400 if chunked is refused), got: ${r.head.slice(0, 200)}`);
    await assertAlive('a large chunked body');
  });

  it('a body just under 64 KiB reaches the token endpoint (JSON error, not 413)', async () => {
    const r = await tokenRequest(world.issuer, `grant_type=authorization_code&redirect_uri=x&code=${'a'.repeat(60 * 1024)}`);
    assert.equal(r.status, 400, show(r));
    assert.ok(r.json?.error, show(r));
  });

  it('garbage instead of HTTP → 400 (or a closed connection), and the server keeps serving', async () => {
    const r = await rawRequest(world.issuer, ['\x00\x01\x02 NOT HTTP AT ALL\r\n\r\n']);
    assert.ok(r.status === 400 || r.status === 0, `expected 400, got: ${r.head.slice(0, 200)}`);
    await assertAlive('garbage');
  });

  // RFC 9112 §6.1, §6.3, §3.2, §5.2: a head whose body the server cannot frame the way any
  // other reader of the stream would is answered once and the connection closed, so a request
  // hidden in its body (as a front end framing it differently would forward it) is never served.
  const smuggled = () => `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host()}\r\n\r\n`;
  const post = (fields) => `POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\n${fields}\r\n`;
  for (const [name, head, status] of [
    ['Transfer-Encoding: xchunked', () => post('Transfer-Encoding: xchunked\r\n'), 400],
    ['Transfer-Encoding: identity', () => post('Transfer-Encoding: identity\r\n'), 400],
    ['Transfer-Encoding: gzip', () => post('Transfer-Encoding: gzip\r\n'), 400],
    ['Transfer-Encoding: chunked, identity', () => post('Transfer-Encoding: chunked, identity\r\n'), 400],
    ['Transfer-Encoding: gzip + Transfer-Encoding: chunked', () => `${post('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n')}0\r\n\r\n`, 501],
    ['Transfer-Encoding in HTTP/1.0', () => `POST /services/oauth2/token HTTP/1.0\r\nHost: ${host()}\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['Transfer-Encoding with Content-Length', () => `${post('Transfer-Encoding: gzip\r\nContent-Length: 5\r\n')}0\r\n\r\n`, 400],
    ['no Host', () => 'GET /id/keys HTTP/1.1\r\n\r\n', 400],
    ['two Host fields', () => `GET /id/keys HTTP/1.1\r\nHost: ${host()}\r\nHost: other.example\r\n\r\n`, 400],
    ['a folded header line (obs-fold)', () => `${post('Transfer-Encoding:\r\n chunked\r\n')}0\r\n\r\n`, 400],
  ]) {
    it(`request smuggling: ${name} → one ${status} invalid_request with Connection: close, the hidden request unanswered`, async () => {
      const r = await rawExchange(world.issuer, head() + smuggled());
      assert.ok(r.closed, `the connection stayed open: ${r.raw.slice(0, 300)}`);
      assert.equal(r.responses.length, 1, `responses: ${r.raw}`);
      assert.match(r.raw, new RegExp(`^HTTP/1\\.1 ${status} `), r.raw.slice(0, 300));
      assert.match(r.raw, /\r\nConnection: close\r\n/i, r.raw.slice(0, 300));
      const body = JSON.parse(r.raw.slice(r.raw.indexOf('\r\n\r\n') + 4));
      assert.equal(body.error, 'invalid_request', r.raw);
      assert.equal(typeof body.error_description, 'string', r.raw);
      await assertAlive(name);
    });
  }

  it('a chunked body with the coding in mixed case (ChUnKeD) is served, and the request pipelined after it too', async () => {
    const body = 'grant_type=client_credentials';
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const head = post('Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: ChUnKeD\r\n');
    const last = `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`;
    const r = await rawExchange(world.issuer, head + chunked + last);
    assert.equal(r.responses.length, 2, r.raw);
    // The token endpoint read the body: it asks for the client, not about the framing.
    assert.doesNotMatch(r.responses[0], /^HTTP\/1\.1 (501|5\d\d) /, r.raw);
    assert.match(r.raw, /"error":"invalid_client"/, r.raw);
    assert.match(r.responses[1], /^HTTP\/1\.1 200 /, r.raw);
  });

  it('an invalid Content-Length → 400', async () => {
    const r = await rawRequest(world.issuer, [`POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\ngrant_type=x`]);
    assert.equal(r.status, 400, r.head.slice(0, 200));
    await assertAlive('a bad Content-Length');
  });

  it('a truncated body (Content-Length larger than sent, then the client stops sending) → the server closes the connection at once, unanswered, and keeps serving', async () => {
    // The end of the stream ends the request: nothing more can come, so the server neither
    // waits out its 30 s read timeout holding the connection nor answers the half request.
    const r = await rawExchange(world.issuer,
      `POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=`,
      { end: true });
    assert.ok(r.closed, `the connection stayed open after the client's end of stream: ${r.raw.slice(0, 300)}`);
    assert.equal(r.raw, '', 'the truncated request was answered');
    await assertAlive('a truncated body');
  });

  it('malformed percent-encoding in the token body → 400 invalid_request', async () => {
    const r = await tokenRequest(world.issuer, 'grant_type=authorization_code&code=%zz%&redirect_uri=%');
    assert.equal(r.status, 400, show(r));
    assert.equal(r.json?.error, 'invalid_request', show(r));
  });

  it('a JSON body at the token endpoint → 4xx JSON error', async () => {
    const r = await tokenRequest(world.issuer, JSON.stringify({ grant_type: 'authorization_code' }), { headers: { 'content-type': 'application/json' } });
    assert.ok(r.status >= 400 && r.status < 500, show(r));
    assert.ok(r.json?.error, show(r));
  });

  it('GET on the token endpoint → 4xx, not 5xx', async () => {
    const r = await httpGet(`${world.issuer}/services/oauth2/token?grant_type=authorization_code`);
    assert.ok(r.status >= 400 && r.status < 500, show(r));
  });

  it('an unknown path → 404', async () => {
    const r = await httpGet(`${world.issuer}/no/such/path`);
    assert.equal(r.status, 404, show(r));
  });

  it('authorize without any parameter → 400 page, no redirect', async () => {
    const r = await httpGet(`${world.issuer}/services/oauth2/authorize`);
    assert.equal(r.status, 400, show(r));
    assert.equal(r.headers.get('location'), null);
  });
});
