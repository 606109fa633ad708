// Failed logins are rate limited (README, SECURITY.md) without handing anyone a way to lock a
// user out (oauth/login_throttle.h): delays per (username, address) and per address, a far
// higher ceiling per username. The server trusts 127.0.0.1 as a reverse proxy (--trusted-proxy), so a
// request from 127.0.0.1 is counted under the address its X-Forwarded-For / Forwarded names;
// requests from 127.0.0.2 (the test binds that local address) are not from a trusted proxy, and
// their headers are ignored. Its own server: the delays would disturb other tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, makeTempDir, eventually, run } from './lib/server.js';
import { Browser, CookieJar, describeResult, parseForms, pageKind } from './lib/driver.js';
import { authorizeUrl } from './lib/oauth.js';

/** One HTTP request over a new connection from `localAddress`; resolves {status, headers, body, location}. */
function rawRequest(url, { method = 'GET', headers = {}, body, localAddress }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        url, status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
        location: res.headers.location ?? null,
      }));
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('failed-login rate limiting without lockouts', { timeout: 60000 }, () => {
  let world;
  let auditPath;
  const statuses = [];  // of every login POST, in order

  before(async () => {
    auditPath = path.join(await makeTempDir('latchkey-audit-'), 'audit.jsonl');
    world = await startWorld({
      serve: { extraArgs: ['--audit-log', auditPath, '--trusted-proxy', '127.0.0.1', '--metrics-listen', '127.0.0.1:0'] },
      users: {
        victim: { username: 'victim@localhost', name: 'Vic Tim', email: 'victim@localhost' },
        bystander: { username: 'bystander@localhost', name: 'By Stander', email: 'bystander@localhost' },
        control: { username: 'control@localhost', name: 'Con Trol', email: 'control@localhost' },
      },
      apps: { web: { scopes: 'api refresh_token' } },
    });
  });
  after(async () => { await world?.stop(); });

  const url = (extra = {}) => authorizeUrl(world.issuer, {
    response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 't', ...extra,
  });

  /**
   * A fresh browser's login: the login page, then the form POST, both with `headers` (the
   * proxy's report) and from `localAddress`. Resolves {res, loggedIn}.
   */
  async function attempt(username, password, { headers = {}, localAddress = '127.0.0.1' } = {}) {
    const jar = new CookieJar();
    const send = async (u, opts = {}) => {
      const cookie = jar.header(u);
      const res = await rawRequest(u, { ...opts, localAddress, headers: { ...headers, ...(opts.headers ?? {}), ...(cookie ? { cookie } : {}) } });
      jar.store([].concat(res.headers['set-cookie'] ?? []), u);
      return res;
    };
    const page = await send(url());
    const forms = parseForms(page.body, page.url);
    assert.equal(pageKind(forms), 'login', page.body.slice(0, 300));
    const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
    const body = new URLSearchParams(form.fields);
    body.set('username', username);
    body.set('password', password);
    const res = await send(form.action, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(),
    });
    statuses.push(res.status);
    // Signed in: the consent page, or a redirect with a session cookie.
    const loggedIn = pageKind(parseForms(res.body, res.url)) === 'consent'
      || (res.status >= 300 && res.status < 400 && [].concat(res.headers['set-cookie'] ?? []).some((c) => /lk_sid=/.test(c)));
    return { res, loggedIn };
  }

  const viaProxy = (client) => ({ headers: { 'x-forwarded-for': `203.0.113.250, ${client}` } });

  it('an attacker failing again and again at one address is held back; the victim from another address signs in', async () => {
    const control = await attempt('control@localhost', world.users.control.password, viaProxy('198.51.100.1'));
    assert.equal(control.loggedIn, true, `control: the right password signs in (HTTP ${control.res.status})`);
    const attacker = viaProxy('198.51.100.66');
    for (let i = 0; i < 8; i++) {
      const { res, loggedIn } = await attempt('victim@localhost', 'wrong-' + i, attacker);
      assert.equal(loggedIn, false, `wrong password ${i} must not sign in`);
      assert.ok([401, 429].includes(res.status), `HTTP ${res.status}`);
    }
    const held = await attempt('victim@localhost', world.users.victim.password, attacker);
    assert.equal(held.loggedIn, false, `the attacker's address guessed right at once after 8 failures: HTTP ${held.res.status}`);
    assert.equal(held.res.status, 429);
    // The victim, behind the same proxy at another address (RFC 7239 Forwarded this time).
    const victim = await attempt('victim@localhost', world.users.victim.password, { headers: { forwarded: 'for="198.51.100.7:5555"' } });
    assert.equal(victim.loggedIn, true, `the victim was locked out by the attacker: HTTP ${victim.res.status}`);
    // Another user at the attacker's address is not held back by the victim's count.
    const other = await attempt('bystander@localhost', world.users.bystander.password, attacker);
    assert.equal(other.loggedIn, true, `HTTP ${other.res.status}`);
  });

  it('from a peer that is not a trusted proxy, X-Forwarded-For is ignored: a new one per guess is no new address', async () => {
    for (let i = 0; i < 5; i++) {
      const { res } = await attempt('bystander@localhost', 'wrong-' + i, {
        localAddress: '127.0.0.2', headers: { 'x-forwarded-for': `192.0.2.${i + 1}` },
      });
      assert.equal(res.status, 401, `guess ${i}: HTTP ${res.status}`);
    }
    const held = await attempt('bystander@localhost', world.users.bystander.password, {
      localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '192.0.2.99' },
    });
    assert.equal(held.res.status, 429, `HTTP ${held.res.status}`);
    // The same user through the trusted proxy, from a clean address, signs in.
    const ok = await attempt('bystander@localhost', world.users.bystander.password, viaProxy('198.51.100.8'));
    assert.equal(ok.loggedIn, true, `HTTP ${ok.res.status}`);
    // And a browser whose sign-in was refused has no session.
    const b = new Browser(world.issuer);
    const none = await b.authorize(url({ prompt: 'none' }));
    assert.equal(none.params.get('error'), 'login_required', describeResult(none));
  });

  it('--trusted-proxy takes an address or a CIDR block; anything else stops the server at start', async () => {
    for (const bad of ['nonsense', '10.0.0.0/33', '127.0.0.1:80']) {
      const r = await run(['--db', world.db, 'serve', '--listen', '127.0.0.1:0', '--trusted-proxy', bad]);
      assert.equal(r.code, 2, `${bad}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /--trusted-proxy must be an IP address or CIDR block/, r.stderr);
    }
  });

  it('logins refused during a delay are failed logins in the audit log (detail locked_out, with the client address) and in /metrics', async () => {
    const refused = statuses.filter((s) => s === 429).length;
    const failed = statuses.filter((s) => s === 401).length + refused;
    assert.ok(refused >= 2, `statuses: ${statuses}`);
    const audit = async () => (await readFile(auditPath, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const lines = await eventually(audit, (ls) => ls.filter((l) => l.event === 'login_failure').length >= failed);
    const failures = lines.filter((l) => l.event === 'login_failure');
    assert.equal(failures.length, failed, `statuses ${statuses}; audit ${JSON.stringify(failures)}`);
    const locked = failures.filter((l) => l.detail === 'locked_out');
    assert.equal(locked.length, refused, JSON.stringify(failures));
    assert.ok(locked.some((l) => l.user === 'victim@localhost' && l.remote_addr === '198.51.100.66'), JSON.stringify(locked));
    assert.ok(locked.some((l) => l.user === 'bystander@localhost' && l.remote_addr === '127.0.0.2'), JSON.stringify(locked));
    const metrics = await (await fetch(world.server.metricsUrl)).text();
    const m = /^latchkey_failed_logins_total (\d+)$/m.exec(metrics);
    assert.ok(m, metrics);
    assert.equal(Number(m[1]), failed, `statuses ${statuses}`);
  });
});
