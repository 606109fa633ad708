// Logs for production (docs/operations.md "Logs"): `--log-format json` lines as a collector
// parses them, request ids from X-Request-Id (or made by the server) in the response, the
// access log and the audit log, and SIGUSR1 reopening `--log-file` and `--audit-log` after
// logrotate renamed them, with requests in flight meanwhile.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rename, stat, access } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startWorld, makeTempDir, eventually } from './lib/server.js';
import { tokenRequest, httpGet } from './lib/oauth.js';

const RFC3339_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MADE_ID = /^[A-Za-z0-9_-]{22}$/;

async function linesOf(file) {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

const exists = (file) => access(file).then(() => true, () => false);

/**
 * Lines of `file` once `done(lines)` holds (the access line of a request is written just
 * after its response, so it may trail the client's read by a moment); fails after 5 s.
 */
async function linesWhen(file, done, what) {
  const lines = await eventually(() => linesOf(file), done, { withinMs: 5000, everyMs: 50 });
  assert.ok(done(lines), `${what}; ${file} has:\n${lines.slice(-20).join('\n')}`);
  return lines;
}

/**
 * One raw HTTP/1.1 request, for header values fetch() would refuse to send; resolves
 * { status, headers } with the header names lower-cased.
 */
function rawRequest(issuer, head) {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk) => { text += chunk.toString('latin1'); });
    socket.on('error', reject);
    socket.on('end', () => {
      const [statusLine, ...fields] = text.split('\r\n\r\n')[0].split('\r\n');
      const headers = {};
      for (const f of fields) {
        const i = f.indexOf(':');
        headers[f.slice(0, i).toLowerCase()] = f.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
    socket.end(`${head}Host: ${hostname}\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}

describe('logs: --log-format json, request ids', () => {
  let world;
  let logFile;
  let auditFile;

  before(async () => {
    const dir = await makeTempDir('latchkey-logs-');
    logFile = path.join(dir, 'latchkey.log');
    auditFile = path.join(dir, 'audit.log');
    world = await startWorld({
      apps: { scripts: { scopes: 'api', extra: ['--allow-password-flow'] } },
      serve: {
        extraArgs: ['--log-format', 'json', '--log-file', logFile, '--audit-log', auditFile,
          '--admin-listen', '127.0.0.1:0'],
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('the admin listener writes its access lines as JSON too', async () => {
    const r = await httpGet(`${world.server.adminUrl}/admin/v1/openapi.json`);
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id');
    const lines = await linesWhen(logFile, (ls) => ls.some((l) => l.includes(id)), 'no admin access line');
    const line = lines.find((l) => l.includes(id));
    assert.doesNotThrow(() => JSON.parse(line), line);
    assert.equal(JSON.parse(line).path, '/admin/v1/openapi.json');
  });

  it('every line of the log is a JSON object; request lines carry their fields and no query string', async () => {
    const r = await httpGet(`${world.issuer}/.well-known/openid-configuration?code=SECRETCODE&state=x`);
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id');
    assert.match(id, MADE_ID);
    const lines = await linesWhen(logFile, (ls) => ls.some((l) => l.includes(id)), 'no access line');
    const objects = lines.map((l) => JSON.parse(l));
    for (const o of objects) {
      assert.match(o.ts, RFC3339_MS_UTC, JSON.stringify(o));
      assert.equal(typeof o.level, 'string', JSON.stringify(o));
      assert.equal(typeof o.msg, 'string', JSON.stringify(o));
    }
    assert.ok(objects.some((o) => o.msg.includes('serving at most')), 'server messages are JSON lines too');
    const line = objects.find((o) => o.request_id === id);
    assert.deepEqual(Object.keys(line).sort(),
      ['bytes', 'client', 'duration_ms', 'level', 'method', 'msg', 'path', 'request_id', 'status', 'ts']);
    assert.equal(line.level, 'info');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/.well-known/openid-configuration');
    assert.equal(line.status, 200);
    assert.equal(line.bytes, r.text.length);
    assert.equal(typeof line.duration_ms, 'number');
    assert.ok(line.duration_ms >= 0 && line.duration_ms < 5000, String(line.duration_ms));
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.msg, 'GET /.well-known/openid-configuration 200');
    assert.ok(!lines.join('\n').includes('SECRETCODE'), 'the query string reached the log');
    // The `listening on` line stays on stdout, as JSON too, whatever --log-file says.
    const stdout = world.logs().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(stdout.some((l) => /listening on http/.test(JSON.parse(l).msg)), world.logs());
  });

  it('a given X-Request-Id comes back and names the access line and the audit lines of a failed login', async () => {
    const app = world.apps.scripts;
    const id = 'trace-login-7f3a';
    const r = await tokenRequest(world.issuer, {
      grant_type: 'password', client_id: app.client_id, client_secret: app.client_secret,
      username: world.users.alice.username, password: 'not the password',
    }, { headers: { 'x-request-id': id } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.headers.get('x-request-id'), id);
    const audit = (await linesWhen(auditFile, (ls) => ls.some((l) => l.includes(id)), 'no audit line'))
      .map((l) => JSON.parse(l)).filter((o) => o.request_id === id);
    assert.deepEqual(audit.map((o) => o.event), ['login_failure', 'token_refused']);
    assert.equal(audit[0].client_id, app.client_id);
    assert.equal(audit[1].detail, 'invalid_grant password');
    const access = (await linesWhen(logFile, (ls) => ls.some((l) => l.includes(id)), 'no access line'))
      .map((l) => JSON.parse(l)).filter((o) => o.request_id === id);
    assert.equal(access.length, 1);
    assert.equal(access[0].path, '/services/oauth2/token');
    assert.equal(access[0].status, 400);
  });

  it('a token request refused for its client secret: the made id is in the response, the access line and the audit line', async () => {
    const r = await tokenRequest(world.issuer, { grant_type: 'client_credentials' },
      { basic: [world.apps.scripts.client_id, 'wrong secret'] });
    assert.equal(r.status, 401, r.text);
    const id = r.headers.get('x-request-id');
    assert.match(id, MADE_ID);
    const audit = (await linesOf(auditFile)).map((l) => JSON.parse(l)).filter((o) => o.request_id === id);
    assert.equal(audit.length, 1, JSON.stringify(audit));
    assert.equal(audit[0].event, 'token_refused');
    assert.equal(audit[0].detail, 'invalid_client client_credentials');
    const access = (await linesWhen(logFile, (ls) => ls.some((l) => l.includes(id)), 'no access line'))
      .map((l) => JSON.parse(l)).filter((o) => o.request_id === id);
    assert.equal(access.length, 1);
    assert.equal(access[0].status, 401);
  });

  for (const [what, bad] of [
    ['control characters', 'abc\x01def\x1b[31m'],
    ['200 characters', 'a'.repeat(200)],
    ['a space', 'two words'],
  ]) {
    it(`an X-Request-Id with ${what} is replaced by one of the server's`, async () => {
      const r = await rawRequest(world.issuer,
        `GET /.well-known/openid-configuration HTTP/1.1\r\nX-Request-Id: ${bad}\r\n`);
      const id = r.headers['x-request-id'];
      assert.match(id, MADE_ID, `status ${r.status}`);
      const lines = await linesWhen(logFile, (ls) => ls.some((l) => l.includes(id)), 'no access line');
      const text = lines.join('\n');
      assert.ok(!text.includes(bad), 'the bad id reached the log');
      assert.ok(!text.includes('\x01') && !text.includes('\x1b'), 'a control character reached the log');
    });
  }
});

describe('logs: SIGUSR1 reopens the log files (logrotate)', () => {
  let world;
  let logFile;
  let auditFile;

  before(async () => {
    const dir = await makeTempDir('latchkey-logrotate-');
    logFile = path.join(dir, 'latchkey.log');
    auditFile = path.join(dir, 'audit.log');
    world = await startWorld({
      apps: { svc: { scopes: 'api' } },
      serve: { extraArgs: ['--log-file', logFile, '--audit-log', auditFile] },
    });
  });
  after(async () => { await world?.stop(); });

  /**
   * A client credentials request with id `id`, refused since the app has no run-as user: one
   * access line, one audit line (token_refused), and no failed secret to slow the next one down.
   */
  const refused = (id) => tokenRequest(world.issuer, { grant_type: 'client_credentials' },
    { basic: [world.apps.svc.client_id, world.apps.svc.client_secret], headers: { 'x-request-id': id } });

  it('after a rename and SIGUSR1 the server writes to new files at the same paths; the old ones keep the earlier lines', async () => {
    assert.equal((await stat(logFile)).mode & 0o777, 0o600);
    assert.equal((await refused('before-rotation')).status, 400);
    await linesWhen(logFile, (ls) => ls.some((l) => l.endsWith('request_id=before-rotation')), 'no access line');

    await rename(logFile, `${logFile}.1`);
    await rename(auditFile, `${auditFile}.1`);
    // Renamed, not reopened yet: the server still writes to the renamed files.
    assert.equal((await refused('between')).status, 400);
    world.server.child.kill('SIGUSR1');
    await linesWhen(logFile, (ls) => ls.some((l) => l.includes('log files reopened')), 'not reopened');
    assert.equal((await refused('after-rotation')).status, 400);
    await linesWhen(logFile, (ls) => ls.some((l) => l.endsWith('request_id=after-rotation')), 'no access line');
    assert.equal(world.server.child.exitCode, null, 'SIGUSR1 must not stop the server');

    const oldLog = (await linesOf(`${logFile}.1`)).join('\n');
    const newLog = (await linesOf(logFile)).join('\n');
    assert.match(oldLog, /path=\/services\/oauth2\/token status=400 .* request_id=before-rotation/);
    assert.match(oldLog, /request_id=between/);
    assert.doesNotMatch(oldLog, /after-rotation/);
    assert.match(newLog, /request_id=after-rotation/);
    assert.doesNotMatch(newLog, /before-rotation|request_id=between/);
    const oldAudit = (await linesOf(`${auditFile}.1`)).map((l) => JSON.parse(l).request_id);
    const newAudit = (await linesOf(auditFile)).map((l) => JSON.parse(l).request_id);
    assert.deepEqual(oldAudit.filter((i) => i !== undefined), ['before-rotation', 'between']);
    assert.deepEqual(newAudit, ['after-rotation']);
    for (const f of [logFile, auditFile]) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
  });

  it('requests answered while the files rotate: every line whole, in one file or the other, none lost', async () => {
    const ids = Array.from({ length: 240 }, (_, i) => `burst-${i}`);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const r = await refused(id);
        assert.equal(r.status, 400, r.text);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    // Rotate three times while the burst runs: after a quarter, a half and three quarters.
    for (let round = 2; round <= 4; round++) {
      await eventually(() => next, (n) => n >= (round - 1) * 60, { withinMs: 10000, everyMs: 2 });
      await rename(logFile, `${logFile}.${round}`);
      await rename(auditFile, `${auditFile}.${round}`);
      world.server.child.kill('SIGUSR1');
      await eventually(() => exists(logFile), (e) => e, { withinMs: 3000, everyMs: 10 });
    }
    await load;

    const rotated = (base) => [base, ...[1, 2, 3, 4].map((n) => `${base}.${n}`)];
    const allOf = async (base) => (await Promise.all(rotated(base).map(linesOf))).flat();
    const burst = (lines, pick) => lines.map(pick).filter((id) => id && id.startsWith('burst-'));
    const accessIds = await eventually(async () => burst(await allOf(logFile), (l) => {
      assert.match(l, /^\S+ \S+ /, `a cut line: ${l}`);
      return /request_id=(\S+)$/.exec(l)?.[1];
    }), (found) => found.length >= ids.length, { withinMs: 5000 });
    const auditIds = burst(await allOf(auditFile), (l) => JSON.parse(l).request_id);
    assert.deepEqual([...accessIds].sort(), [...ids].sort(), 'each request has exactly one access line');
    assert.deepEqual([...auditIds].sort(), [...ids].sort(), 'each request has exactly one audit line');
    const spread = await Promise.all(rotated(logFile).slice(1).map(async (f) =>
      burst(await linesOf(f), (l) => /request_id=(\S+)$/.exec(l)?.[1]).length));
    assert.ok(spread.filter((n) => n > 0).length >= 2, `the burst did not span a rotation: ${spread}`);
  });
});
