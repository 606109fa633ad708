// A real browser (Debian's Chromium through playwright-core): login and consent pages by their
// labels and buttons, the landing page, and the demo when it is available.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, startServer, run, freePort, makeTempDir, newDatabase, dropDatabase } from './lib/server.js';
import { authorizeUrl, pkcePair, exchangeCode, assertTokenSuccess } from './lib/oauth.js';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import { launchChromium } from './lib/browser.js';

const SCREENSHOT = '/tmp/e2e-consent.png';

/** A tiny callback server on a free loopback port (Chromium refuses port 9, and page.route does
 *  not see requests that are the target of a server redirect); it records the URLs it gets. */
function startCallbackServer() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(new URL(req.url, `http://${req.headers.host}`).href);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>callback</title><h1>callback reached</h1>');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/callback`, hits, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

describe('browser (Chromium)', { concurrency: false, timeout: 90000 }, () => {
  let world;
  let browser;
  let callback;

  before(async () => {
    callback = await startCallbackServer();
    world = await startWorld({ apps: { web: { name: 'Browser App', scopes: 'api refresh_token openid', callbacks: [callback.url] } } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await world?.stop();
    await callback?.close();
  });

  it('login by label, "Log In", Allow → redirect to the callback with code and state; the code is redeemable', async () => {
    const app = world.apps.web;
    const context = await browser.newContext();
    try {
      const hits = () => callback.hits.filter((h) => new URL(h).pathname === '/callback');
      const page = await context.newPage();
      const { verifier, challenge } = pkcePair();
      const state = 'browser-state-1';
      await page.goto(authorizeUrl(world.issuer, {
        response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state, scope: 'api refresh_token openid',
        code_challenge: challenge, code_challenge_method: 'S256',
      }));
      await page.getByLabel(/user ?name/i).fill(world.users.alice.username);
      await page.getByLabel(/password/i).fill(world.users.alice.password);
      await page.getByRole('button', { name: /log ?in/i }).click();
      const allow = page.getByRole('button', { name: /allow/i });
      await allow.waitFor({ timeout: 10000 });
      const html = await page.content();
      assert.match(html, /Browser App/, 'the consent page names the app');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(app.callback), { timeout: 10000 }),
        allow.click(),
      ]);
      assert.equal(hits().length, 1, `callback hits: ${hits()}`);
      assert.equal(new URL(page.url()).pathname, '/callback');
      const cb = new URL(hits()[0]);
      assert.equal(cb.searchParams.get('state'), state);
      const code = cb.searchParams.get('code');
      assert.ok(code, hits()[0]);
      const r = await exchangeCode(world, app, { code, redirectUri: app.callback, verifier });
      assertTokenSuccess(r);
    } finally {
      await context.close();
    }
  });

  it('the login page shows an error for a wrong password and stays on the login page', async () => {
    const app = world.apps.web;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(authorizeUrl(world.issuer, { response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state: 's' }));
      await page.getByLabel(/user ?name/i).fill('nobody@localhost');
      await page.getByLabel(/password/i).fill('wrong');
      await page.getByRole('button', { name: /log ?in/i }).click();
      await page.getByLabel(/password/i).waitFor({ timeout: 10000 });
      assert.ok(page.url().startsWith(world.issuer), page.url());
      assert.match(await page.content(), /(invalid|incorrect|wrong|error|failed)/i);
    } finally {
      await context.close();
    }
  });

  it('the landing page "/" renders with the issuer and the discovery and JWKS links', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const res = await page.goto(world.issuer + '/');
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'] ?? '', /text\/html/);
      const text = await page.locator('body').innerText();
      assert.ok(text.includes(world.issuer), 'the landing page shows the issuer');
      const hrefs = await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.ok(hrefs.some((h) => /\.well-known\/openid-configuration$/.test(h ?? '')), `links: ${hrefs}`);
      assert.ok(hrefs.some((h) => /\/id\/keys$/.test(h ?? '')), `links: ${hrefs}`);
    } finally {
      await context.close();
    }
  });

  it('the demo (seeded by `latchkey demo`): landing page demo link → login → Allow → result page with the token response', async () => {
    const dir = await makeTempDir();
    const { url: db } = await newDatabase(dir);
    const port = await freePort();
    const seeded = await run(['--db', db, 'demo', '--listen', `127.0.0.1:${port}`]);
    if (seeded.code !== 0) {
      await dropDatabase(db);
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(seeded.code, 0, `latchkey demo failed: ${seeded.stderr.trim().slice(0, 200)}`);
    const server = await startServer(db, { listen: `127.0.0.1:${port}` });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(server.issuer + '/');
      const demo = page.locator('.demo');
      assert.ok(await demo.count(), 'the landing page has a demo section once the demo is seeded');
      const codes = await demo.locator('code').allInnerTexts();
      assert.ok(codes.length >= 2, `demo credentials shown on the landing page: ${codes}`);
      const [username, password] = codes;
      await demo.locator('a').first().click();
      await page.getByLabel(/user ?name/i).fill(username);
      await page.getByLabel(/password/i).fill(password);
      await page.getByRole('button', { name: /log ?in/i }).click();
      const allow = page.getByRole('button', { name: /allow/i });
      await allow.waitFor({ timeout: 10000 }).catch(() => {});
      if (await allow.count()) await allow.click();
      await page.waitForFunction(() => /access_token/.test(document.body?.innerText ?? ''), null, { timeout: 10000 });
      const text = await page.locator('body').innerText();
      assert.match(text, /access_token/);
      assert.match(text, /instance_url/);
      assert.match(text, /issued_at/);
      assert.ok(page.url().startsWith(server.issuer), `the demo result page is served by latchkey: ${page.url()}`);
      // The decoded ID token and the userinfo, each under its heading, about the demo user.
      const section = async (heading) => {
        const pre = page.locator('pre').and(page.getByLabel(heading, { exact: true }));
        assert.equal(await pre.count(), 1, `the result page has a "${heading}" section`);
        return JSON.parse(await pre.innerText());
      };
      const header = await section('ID token header');
      assert.equal(header.alg, 'RS256');
      assert.ok(header.kid, 'the ID token header names its key');
      const claims = await section('ID token claims');
      assert.equal(claims.iss, server.issuer);
      assert.ok(claims.nonce, 'the demo sends a nonce and the ID token carries it');
      const info = await section('Userinfo');
      assert.equal(info.sub, claims.sub, `userinfo and the ID token name the same user: ${JSON.stringify(info)} ${JSON.stringify(claims)}`);
      assert.equal(info.preferred_username, username);
    } finally {
      await context.close();
      await server.stop();
      await dropDatabase(db);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

