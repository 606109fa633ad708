// docs/admin-console.md: the admin console on the admin listener, in a real browser (Chromium
// through playwright-core): sign-in with an admin token made by the CLI, an app created with its
// secret shown once and used at the token endpoint, its secret rotated, a user created and
// deactivated, a user's tokens revoked, the signing keys rotated, the audit log naming the
// token, a cross-site POST refused, and sign-out. A screenshot of each page is written to
// /tmp/e2e-admin-console-<page>.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, cli, eventually, makeTempDir, createApp } from './lib/server.js';
import { tokenRequest, userinfo } from './lib/oauth.js';
import { launchChromium } from './lib/browser.js';

const shot = (page, name) => page.screenshot({ path: `/tmp/e2e-admin-console-${name}.png`, fullPage: true });

describe('admin console (Chromium)', { concurrency: false, timeout: 120000 }, () => {
  let world;
  let base;
  let token;
  let auditDir;
  let auditPath;
  let browser;
  let context;
  let page;

  before(async () => {
    auditDir = await makeTempDir('latchkey-e2e-console-');
    auditPath = path.join(auditDir, 'audit.log');
    world = await startWorld({
      users: {
        runas: { username: 'runas@localhost', name: 'Run As', email: 'runas@localhost' },
        victim: { username: 'victim@localhost', name: 'Vic Tim', email: 'victim@localhost' },
      },
      serve: { extraArgs: ['--admin-listen', '127.0.0.1:0', '--audit-log', auditPath] },
    });
    base = `${world.server.adminUrl}/admin/console`;
    token = (await cli(world.db, ['admin-token', 'create', '--name', 'ops-console'])).token;
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await world?.stop();
    if (auditDir) await rm(auditDir, { recursive: true, force: true });
  });

  const clientCredentials = (id, secret) =>
    tokenRequest(world.issuer, { grant_type: 'client_credentials' }, { basic: [id, secret] });

  it('signs in through the form: a wrong token is refused, the right one opens the apps page', async () => {
    await page.goto(base);
    assert.equal(new URL(page.url()).pathname, '/admin/console/login', 'not signed in: the sign-in page');
    await shot(page, 'login');
    await page.getByLabel('Admin token').fill(`lka_${'x'.repeat(43)}`);
    const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.equal(refused.status(), 400);
    assert.match(await page.locator('#console-error').innerText(), /not valid/);
    await page.getByLabel('Admin token').fill(token);
    await Promise.all([page.waitForURL(`${base}/apps`), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.match(await page.locator('#console-admin').innerText(), /ops-console/);
    const cookie = (await context.cookies()).find((c) => c.name === 'lk_console');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/admin/console');
  });

  it('creates an app, shows its secret once (it works at the token endpoint), lists it, rotates the secret', async () => {
    await page.goto(`${base}/apps`);
    await page.getByLabel('Name', { exact: true }).fill('Console <b>App</b>');
    await page.getByLabel(/Redirect URIs/).fill('https://app.example/cb');
    await page.getByLabel('Scopes').fill('api');
    await page.getByLabel(/run-as user/).fill('runas@localhost');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create app' }).click()]);
    const clientId = await page.locator('#client-id').innerText();
    const secret = await page.locator('#client-secret').innerText();
    assert.match(await page.content(), /shown only this once/);
    await shot(page, 'app-created');
    const issued = await clientCredentials(clientId, secret);
    assert.equal(issued.status, 200, issued.text);
    assert.ok(issued.json.access_token);

    await page.goto(`${base}/apps`);
    await shot(page, 'apps');
    const row = page.locator('#apps tr', { hasText: clientId });
    assert.match(await row.innerText(), /Console <b>App<\/b>/, 'the name is shown as text');
    await Promise.all([page.waitForNavigation(), row.getByRole('link').click()]);
    assert.ok(!(await page.content()).includes(secret), 'the app page does not show the secret');
    await shot(page, 'app');

    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rotate secret' }).click()]);
    const fresh = await page.locator('#client-secret').innerText();
    assert.notEqual(fresh, secret);
    await shot(page, 'secret-rotated');
    assert.equal((await clientCredentials(clientId, secret)).status >= 400, true, 'the old secret is refused');
    assert.equal((await clientCredentials(clientId, fresh)).status, 200);
  });

  it('creates a user and deactivates it', async () => {
    await page.goto(`${base}/users`);
    await page.getByLabel(/Username/).fill('dora@localhost');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByLabel('Full name').fill('Dora Explorer');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create user' }).click()]);
    assert.equal(new URL(page.url()).pathname, '/admin/console/users/dora%40localhost');
    assert.match(await page.locator('#console-notice').innerText(), /User created/);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Deactivate' }).click()]);
    assert.match(await page.locator('#console-notice').innerText(), /deactivated/);
    assert.match(await page.locator('#user-details').innerText(), /active\s+no/);
    await shot(page, 'user');
    await page.goto(`${base}/users`);
    assert.match(await page.locator('#users tr', { hasText: 'dora@localhost' }).innerText(), /no$/);
    await shot(page, 'users');
  });

  it("revokes a user's tokens: the count is shown and the token is refused at userinfo", async () => {
    const app = await createApp(world.db, {
      name: 'victim app', scopes: 'api openid', extra: ['--client-credentials-user', 'victim@localhost'],
    });
    const got = await clientCredentials(app.client_id, app.client_secret);
    assert.equal(got.status, 200, got.text);
    assert.equal((await userinfo(world, got.json.access_token)).status, 200);
    await page.goto(`${base}/users/victim%40localhost`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Revoke all tokens' }).click()]);
    assert.match(await page.locator('#console-notice').innerText(), /Revoked 1 token\./);
    assert.equal((await userinfo(world, got.json.access_token)).status, 401);
  });

  it('rotates the signing keys: the list changes and the JWKS has the new kid', async () => {
    await page.goto(`${base}/keys`);
    const kids = async () => page.locator('#keys tbody code').allInnerTexts();
    const before = await kids();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rotate signing key' }).click()]);
    assert.match(await page.locator('#console-notice').innerText(), /rotated/);
    const added = (await kids()).filter((k) => !before.includes(k));
    assert.equal(added.length, 1, 'one new key');
    await shot(page, 'keys');
    const jwks = await (await fetch(`${world.issuer}/id/keys`)).json();
    assert.ok(jwks.keys.some((k) => k.kid === added[0]), 'the JWKS has the new kid');
  });

  it('records every change in the audit log under the token name', async () => {
    const ops = ['createApp', 'rotateAppSecret', 'createUser', 'updateUser', 'revokeUserTokens', 'rotateKey'];
    const events = await eventually(async () => (await readFile(auditPath, 'utf8')).split('\n').filter(Boolean)
      .map((l) => JSON.parse(l)).filter((e) => e.event === 'admin_change'),
    (list) => ops.every((op) => list.some((e) => e.detail === op)));
    assert.deepEqual(ops.filter((op) => !events.some((e) => e.detail === op)), [], 'every change is in the audit log');
    for (const e of events) assert.equal(e.admin, 'ops-console');
    await page.goto(`${base}/audit`);
    assert.match(await page.locator('#events').innerText(), /"admin":"ops-console"/);
    await shot(page, 'audit');
  });

  it('refuses a forged POST: from another site, and without the csrf field', async () => {
    const keysBefore = (await cli(world.db, ['keys', 'list'])).keys.length;
    // A page of another origin whose form posts to the console in the signed-in browser.
    const evil = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form method="post" action="${base}/keys/rotate">
        <input name="csrf" value="guess"><button>Win a prize</button></form>`);
    });
    await new Promise((r) => evil.listen(0, '127.0.0.1', r));
    try {
      await page.goto(`http://localhost:${evil.address().port}/`);
      const [answer] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Win a prize' }).click()]);
      assert.equal(answer.status(), 403);
      await shot(page, 'forbidden');
    } finally {
      await new Promise((r) => evil.close(r));
    }
    // The session cookie itself, without the form's csrf field, or with it from another origin.
    const cookie = (await context.cookies()).find((c) => c.name === 'lk_console');
    const headers = { cookie: `lk_console=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded' };
    assert.equal((await fetch(`${base}/keys/rotate`, { method: 'POST', headers, body: '' })).status, 403);
    await page.goto(`${base}/keys`);
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const foreign = await fetch(`${base}/keys/rotate`, {
      method: 'POST', headers: { ...headers, origin: 'http://evil.example' }, body: `csrf=${encodeURIComponent(csrf)}`, redirect: 'manual',
    });
    assert.equal(foreign.status, 403);
    assert.equal((await cli(world.db, ['keys', 'list'])).keys.length, keysBefore, 'no key was made');
  });

  it('signs out: the pages redirect to the sign-in page again', async () => {
    await page.goto(`${base}/apps`);
    await Promise.all([page.waitForURL(`${base}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.goto(`${base}/users`);
    assert.equal(new URL(page.url()).pathname, '/admin/console/login');
  });
});
