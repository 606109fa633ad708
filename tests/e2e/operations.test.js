// Operations (issue: hardening §6): the JSON-lines audit log of authentication events and the
// Prometheus /metrics endpoint, checked against what a real flow did.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, makeTempDir } from './lib/server.js';
import { Browser } from './lib/driver.js';
import { codeFlow, authorizeUrl, tokenRequest, sleep } from './lib/oauth.js';

describe('operations: audit log and metrics', () => {
  let world;
  let auditPath;

  before(async () => {
    const dir = await makeTempDir('latchkey-audit-');
    auditPath = path.join(dir, 'audit.jsonl');
    world = await startWorld({
      apps: {
        web: { callback: 'http://127.0.0.1:9/cb', scopes: 'api refresh_token openid' },
      },
      serve: { extraArgs: ['--audit-log', auditPath] },
    });
  });
  after(async () => { await world?.stop(); });

  async function auditLines() {
    const text = await readFile(auditPath, 'utf8');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  it('records a failed login, a login, consent and the issued token as JSON lines without secrets', async () => {
    const app = world.apps.web;
    const alice = world.users.alice;
    // A wrong password first.
    const b = new Browser(world.issuer);
    await b.authorize(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state: 's0',
    }), { username: alice.username, password: 'not the password', decision: 'allow' });
    const { tokens } = await codeFlow(world, { app, scope: 'api refresh_token openid', nonce: 'n1' });
    await sleep(100);  // the audit sink flushes per line; give the write a moment

    const lines = await auditLines();
    const types = lines.map((l) => l.event);
    for (const t of ['login_failure', 'login_success', 'consent_granted', 'token_issued']) {
      assert.ok(types.includes(t), `audit log lacks ${t}: ${JSON.stringify(types)}`);
    }
    const issued = lines.find((l) => l.event === 'token_issued');
    assert.equal(issued.client_id, app.client_id);
    assert.equal(issued.user, alice.user_id);
    assert.equal(issued.detail, 'authorization_code');
    assert.equal(typeof issued.ts, 'number');
    const failure = lines.find((l) => l.event === 'login_failure');
    assert.equal(failure.user, alice.username);
    assert.equal(failure.remote_addr, '127.0.0.1');

    const raw = await readFile(auditPath, 'utf8');
    for (const secret of [tokens.access_token, tokens.refresh_token, app.client_secret, alice.password,
      'not the password']) {
      assert.ok(!raw.includes(secret), 'a secret reached the audit log');
    }
  });

  it('records refused token requests and revocations', async () => {
    const app = world.apps.web;
    const bad = await tokenRequest(world.issuer, {
      grant_type: 'authorization_code', code: 'nope', redirect_uri: app.callback,
      client_id: app.client_id, client_secret: app.client_secret,
    });
    assert.equal(bad.status, 400);
    const lines = await auditLines();
    const refused = lines.filter((l) => l.event === 'token_refused');
    assert.ok(refused.some((l) => l.detail === 'invalid_grant authorization_code' && l.client_id === app.client_id),
      JSON.stringify(refused));
  });

  it('/metrics counts requests by endpoint and status, tokens by grant type, failed logins', async () => {
    const r = await fetch(`${world.issuer}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const value = (re) => {
      const m = re.exec(text);
      assert.ok(m, `no ${re} in\n${text}`);
      return Number(m[1]);
    };
    assert.ok(value(/^latchkey_tokens_issued_total\{grant_type="authorization_code"\} (\d+)$/m) >= 1);
    assert.ok(value(/^latchkey_failed_logins_total (\d+)$/m) >= 1);
    assert.ok(value(/^latchkey_http_requests_total\{endpoint="token",status="200"\} (\d+)$/m) >= 1);
    assert.ok(value(/^latchkey_http_requests_total\{endpoint="token",status="400"\} (\d+)$/m) >= 1);
    const count = value(/^latchkey_http_request_duration_seconds_count\{endpoint="token"\} (\d+)$/m);
    const inf = value(/^latchkey_http_request_duration_seconds_bucket\{endpoint="token",le="\+Inf"\} (\d+)$/m);
    assert.equal(inf, count, 'the +Inf bucket equals the count');
  });
});
