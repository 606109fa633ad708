// CONTRACT §6 bad input: size limits (headers 16 KiB, body 64 KiB), malformed requests get a
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

describe('bad input (CONTRACT §6)', { concurrency: true, timeout: 60000 }, () => {
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

  it('an invalid Content-Length → 400', async () => {
    const r = await rawRequest(world.issuer, [`POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\ngrant_type=x`]);
    assert.equal(r.status, 400, r.head.slice(0, 200));
    await assertAlive('a bad Content-Length');
  });

  it('a truncated body (Content-Length larger than sent, then close) does not hang or kill the server', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: Number(new URL(world.issuer).port) });
    await new Promise((r) => sock.on('connect', r));
    sock.write(`POST /services/oauth2/token HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=`);
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
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
