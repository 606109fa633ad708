// CONTRACT §6: failed logins are rate limited per user and per address. Its own server: the
// lockout of 127.0.0.1 would disturb every other test sharing a server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, makeTempDir, eventually } from './lib/server.js';
import { Browser, describeResult, parseForms, pageKind } from './lib/driver.js';
import { authorizeUrl } from './lib/oauth.js';

describe('failed-login rate limiting (CONTRACT §6)', { timeout: 60000 }, () => {
  let world;
  let auditPath;
  const statuses = [];  // of every login POST, in order

  before(async () => {
    auditPath = path.join(await makeTempDir('latchkey-audit-'), 'audit.jsonl');
    world = await startWorld({
      serve: { extraArgs: ['--audit-log', auditPath, '--metrics-listen', '127.0.0.1:0'] },
      users: {
        victim: { username: 'victim@localhost', name: 'Vic Tim', email: 'victim@localhost' },
        bystander: { username: 'bystander@localhost', name: 'By Stander', email: 'bystander@localhost' },
        control: { username: 'control@localhost', name: 'Con Trol', email: 'control@localhost' },
      },
      apps: { web: { scopes: 'api refresh_token' } },
    });
  });
  after(async () => { await world?.stop(); });

  const url = () => authorizeUrl(world.issuer, {
    response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 't',
  });

  async function attempt(username, password) {
    const b = new Browser(world.issuer);
    const { forms, kind, page } = await b.load(url());
    assert.equal(kind, 'login', page.body.slice(0, 300));
    const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
    const res = await b.submit(form, { set: { username, password } });
    statuses.push(res.status);
    let loggedIn = pageKind(parseForms(res.body, res.url)) === 'consent';
    if (res.status >= 300 && res.status < 400 && res.location) {
      const next = new URL(res.location, res.url);
      if (next.origin !== b.origin) loggedIn = true;
      else loggedIn = (await b.load(next.href)).kind !== 'login';
    }
    return { res, loggedIn, browser: b };
  }

  it('after repeated failures, the right password is refused for a while (per user and per address)', async () => {
    const control = await attempt('control@localhost', world.users.control.password);
    assert.equal(control.loggedIn, true, `control: the right password logs in before any failure (HTTP ${control.res.status})`);
    for (let i = 0; i < 8; i++) {
      const { res, loggedIn } = await attempt('victim@localhost', 'wrong-' + i);
      assert.equal(loggedIn, false, `wrong password ${i} must not log in`);
      assert.ok(res.status < 500, `HTTP ${res.status}`);
    }
    const right = await attempt('victim@localhost', world.users.victim.password);
    assert.equal(right.loggedIn, false, `the locked-out user logged in right after 8 failures: HTTP ${right.res.status}`);
    assert.ok([200, 401, 403, 429].includes(right.res.status), `HTTP ${right.res.status}`);
    const other = await attempt('bystander@localhost', world.users.bystander.password);
    assert.equal(other.loggedIn, false, 'the address is limited too: another user from the same address is held back');
    const none = await right.browser.authorize(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: world.apps.web.client_id, redirect_uri: world.apps.web.callback, state: 'n', prompt: 'none',
    }));
    assert.equal(none.params.get('error'), 'login_required', describeResult(none));
  });

  it('logins refused during the lockout are failed logins in the audit log (detail locked_out) and in /metrics', async () => {
    const refused = statuses.filter((s) => s === 429).length;
    const failed = statuses.filter((s) => s === 401).length + refused;
    assert.ok(refused >= 2, `statuses: ${statuses}`);
    const audit = async () => (await readFile(auditPath, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const lines = await eventually(audit, (ls) => ls.filter((l) => l.event === 'login_failure').length >= failed);
    const failures = lines.filter((l) => l.event === 'login_failure');
    assert.equal(failures.length, failed, `statuses ${statuses}; audit ${JSON.stringify(failures)}`);
    const locked = failures.filter((l) => l.detail === 'locked_out');
    assert.equal(locked.length, refused, JSON.stringify(failures));
    assert.ok(locked.some((l) => l.user === 'victim@localhost' && l.remote_addr === '127.0.0.1'), JSON.stringify(locked));
    assert.ok(locked.some((l) => l.user === 'bystander@localhost'), JSON.stringify(locked));
    const metrics = await (await fetch(world.server.metricsUrl)).text();
    const m = /^latchkey_failed_logins_total (\d+)$/m.exec(metrics);
    assert.ok(m, metrics);
    assert.equal(Number(m[1]), failed, `statuses ${statuses}`);
  });
});
