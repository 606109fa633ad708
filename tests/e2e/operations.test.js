// Operations (issue: hardening §6): the JSON-lines audit log of authentication events and the
// Prometheus /metrics endpoint, checked against what a real flow did.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, makeTempDir, eventually } from './lib/server.js';
import { Browser } from './lib/driver.js';
import {
  codeFlow, getCode, exchangeCode, refresh, revoke, introspect, authorizeUrl, tokenRequest, sleep,
  assertTokenError, assertTokenSuccess, randomString,
} from './lib/oauth.js';

describe('operations: audit log and metrics', () => {
  let world;
  let auditPath;

  before(async () => {
    const dir = await makeTempDir('latchkey-audit-');
    auditPath = path.join(dir, 'audit.jsonl');
    world = await startWorld({
      apps: {
        web: { callback: 'http://127.0.0.1:9/cb', scopes: 'api refresh_token openid' },
        rotating: { scopes: 'api refresh_token', refreshPolicy: 'rotate' },
        denied: { scopes: 'api' },
      },
      serve: { extraArgs: ['--audit-log', auditPath, '--metrics-listen', '127.0.0.1:0'] },
    });
  });
  after(async () => { await world?.stop(); });

  async function auditLines() {
    const text = await readFile(auditPath, 'utf8');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  // Every value a client was given or knows that must never reach the log.
  const secrets = [];
  async function assertNoSecretLogged() {
    const raw = await readFile(auditPath, 'utf8');
    for (const secret of secrets.filter(Boolean)) {
      assert.ok(!raw.includes(secret), `a secret or token reached the audit log: ${secret.slice(0, 8)}…`);
    }
  }

  /** The one audit line of `event` with `detail` for the app, asserting there is exactly one. */
  async function onlyLine(event, detail, app) {
    const lines = (await auditLines()).filter((l) => l.event === event && l.detail === detail && l.client_id === app.client_id);
    assert.equal(lines.length, 1, `expected one ${event} ${detail} line for ${app.client_id}: ${JSON.stringify(lines)}`);
    assert.equal(typeof lines[0].ts, 'number');
    return lines[0];
  }

  async function metrics() {
    const r = await fetch(world.server.metricsUrl);
    assert.equal(r.status, 200);
    const text = await r.text();
    return (name, labels = '') => {
      const escaped = (name + (labels ? `{${labels}}` : '')).replace(/[{}"+.\\]/g, '\\$&');
      const m = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
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

  it('a failed login whose username names no user (a password typed into the username box) is logged as "unknown", never as typed', async () => {
    const app = world.apps.web;
    const typed = `Tr0ub4dor&3-${randomString(10)}`;
    const b = new Browser(world.issuer);
    const r = await b.authorize(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state: 's-unknown',
    }), { username: typed, password: 'whatever was typed next' });
    assert.equal(r.location, null, 'an unknown username logged in');
    // A failed login for an existing user, after it, is still named.
    const b2 = new Browser(world.issuer);
    await b2.authorize(authorizeUrl(world.issuer, {
      response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state: 's-known',
    }), { username: world.users.alice.username, password: 'not alice\'s password' });
    const lines = await eventually(auditLines, (ls) => ls.filter((l) => l.event === 'login_failure').length >= 3);
    const raw = await readFile(auditPath, 'utf8');
    assert.ok(!raw.includes(typed.slice(12)), `the typed username reached the audit log: ${raw}`);
    const failures = lines.filter((l) => l.event === 'login_failure');
    assert.equal(failures.at(-2).user, 'unknown', JSON.stringify(failures));
    assert.equal(failures.at(-1).user, world.users.alice.username, JSON.stringify(failures));
  });

  it('records refused token requests and revocations', async () => {
    const app = world.apps.web;
    const alice = world.users.alice;
    const bad = await tokenRequest(world.issuer, {
      grant_type: 'authorization_code', code: 'nope', redirect_uri: app.callback,
      client_id: app.client_id, client_secret: app.client_secret,
    });
    assert.equal(bad.status, 400);
    const lines = await auditLines();
    const refused = lines.filter((l) => l.event === 'token_refused');
    assert.ok(refused.some((l) => l.detail === 'invalid_grant authorization_code' && l.client_id === app.client_id),
      JSON.stringify(refused));

    // Revoked at the revoke endpoint (RFC 7009): the refresh token and with it its family.
    const { tokens } = await codeFlow(world, { app, scope: 'api refresh_token' });
    secrets.push(tokens.access_token, tokens.refresh_token);
    assert.equal((await revoke(world, tokens.refresh_token)).status, 200);
    const revoked = await onlyLine('token_revoked', 'refresh_token', app);
    assert.equal(revoked.user, alice.user_id);
    assert.equal(revoked.remote_addr, '127.0.0.1');
    await assertNoSecretLogged();
  });

  it('records the revocation a replayed authorization code causes (RFC 6749 §4.1.2)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app, scope: 'api refresh_token' });
    const tokens = assertTokenSuccess(await exchangeCode(world, app, got));
    secrets.push(got.code, got.verifier, tokens.access_token, tokens.refresh_token);
    assertTokenError(await exchangeCode(world, app, got), 'invalid_grant');
    const active = (await introspect(world, app, tokens.access_token)).json?.active;
    assert.equal(active, false, 'the replay did not revoke the tokens of the first exchange');

    const line = await onlyLine('token_revoked', 'code_replay', app);
    assert.equal(line.user, world.users.alice.user_id);
    // A second replay has nothing left to revoke: refused, and no second revocation line. The
    // log is read once it holds the second replay's own refusal, which the server writes after
    // any revocation line of the same request: a missing line is then not one still to come.
    const refusals = async () => (await auditLines()).filter((l) => l.event === 'token_refused'
      && l.detail === 'invalid_grant authorization_code' && l.client_id === app.client_id).length;
    const refusedBefore = await refusals();
    assertTokenError(await exchangeCode(world, app, got), 'invalid_grant');
    assert.equal(await eventually(refusals, (n) => n > refusedBefore), refusedBefore + 1,
      'the second replay is not in the audit log');
    await onlyLine('token_revoked', 'code_replay', app);
    await assertNoSecretLogged();
  });

  it('records the revocation a reused rotated refresh token causes (RFC 9700 §4.14.2)', async () => {
    const app = world.apps.rotating;
    const { tokens } = await codeFlow(world, { app });
    const rotated = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    secrets.push(tokens.access_token, tokens.refresh_token, rotated.access_token, rotated.refresh_token);
    assertTokenError(await refresh(world, app, tokens.refresh_token), 'invalid_grant');
    assertTokenError(await refresh(world, app, rotated.refresh_token), 'invalid_grant');

    const line = await onlyLine('token_revoked', 'refresh_token_reuse', app);
    assert.equal(line.user, world.users.alice.user_id);
    await assertNoSecretLogged();
  });

  it('records a denied consent with the app, the user and the scopes asked for', async () => {
    const app = world.apps.denied;
    const got = await getCode(world, { app, decision: 'deny', expectCode: false });
    assert.equal(got.result.params.get('error'), 'access_denied', got.result.location);
    const line = await onlyLine('consent_denied', 'api', app);
    assert.equal(line.user, world.users.alice.user_id);
    assert.equal(line.remote_addr, '127.0.0.1');
    secrets.push(app.client_secret);
    await assertNoSecretLogged();
  });

  it('/metrics counts a replayed code as the 400 it was answered with, and no token issued', async () => {
    const app = world.apps.web;
    const before = await metrics();
    const got = await getCode(world, { app, scope: 'api' });
    assertTokenSuccess(await exchangeCode(world, app, got));
    assertTokenError(await exchangeCode(world, app, got), 'invalid_grant');
    const after = await metrics();
    const delta = (name, labels) => after(name, labels) - before(name, labels);
    assert.equal(delta('latchkey_http_requests_total', 'endpoint="token",status="400"'), 1,
      'the replay is not counted under the token endpoint with status 400');
    assert.equal(delta('latchkey_http_requests_total', 'endpoint="token",status="200"'), 1,
      'the replay was counted with the provisional status 200');
    assert.equal(delta('latchkey_tokens_issued_total', 'grant_type="authorization_code"'), 1);
    assert.equal(delta('latchkey_http_request_duration_seconds_count', 'endpoint="token"'), 2);
    assert.equal(delta('latchkey_revocations_total'), 1, 'the replay revoked what the code bought');
  });

  it('/metrics counts requests by endpoint and status, tokens by grant type, failed logins', async () => {
    const r = await fetch(world.server.metricsUrl);
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

  it('--metrics-listen: the public port answers 404 for /metrics, the metrics port 200 with the Prometheus text and /healthz, and nothing else', async () => {
    const metricsUrl = new URL(world.server.metricsUrl);
    assert.notEqual(metricsUrl.port, new URL(world.issuer).port);
    const pub = await fetch(`${world.issuer}/metrics`);
    assert.equal(pub.status, 404);
    assert.doesNotMatch(await pub.text(), /latchkey_/);
    const r = await fetch(metricsUrl);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.match(await r.text(), /^# TYPE latchkey_http_requests_total counter$/m);
    assert.equal((await fetch(new URL('/healthz', metricsUrl))).status, 200);
    for (const p of ['/', '/services/oauth2/token', '/.well-known/openid-configuration']) {
      assert.equal((await fetch(new URL(p, metricsUrl))).status, 404, p);
    }
    assert.equal((await fetch(`${world.issuer}/healthz`)).status, 200, 'health stays public');
  });

  it('/readyz: 200 {"status":"ready"} on both listeners while the database answers (docs/behaviour.md §4)', async () => {
    for (const base of [world.issuer, world.server.metricsUrl]) {
      const r = await fetch(new URL('/readyz', base));
      assert.equal(r.status, 200, base);
      assert.equal(r.headers.get('cache-control'), 'no-store', base);
      assert.deepEqual(await r.json(), { status: 'ready' }, base);
    }
  });
});

describe('operations: /metrics without --metrics-listen', () => {
  let world;
  before(async () => { world = await startWorld({}); });
  after(async () => { await world?.stop(); });

  it('is served nowhere: the public port answers 404 and no metrics listener is announced', async () => {
    const r = await fetch(`${world.issuer}/metrics`);
    assert.equal(r.status, 404);
    assert.doesNotMatch(await r.text(), /latchkey_/);
    assert.equal(world.server.metricsUrl, null);
    assert.doesNotMatch(world.logs(), /metrics listening on/);
  });
});
