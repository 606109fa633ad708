// The real Salesforce CLI's `sf org login web` (lib/sf.js) against latchkey: the CLI serves
// http://localhost:1717/OauthRedirect itself and "opens a browser" for the authorize URL it
// builds (client_id=PlatformCLI, no secret, scopes `refresh_token api web`, prompt=login, a
// PKCE challenge without method and a 171-character verifier; docs/behaviour.md §5.2). Its
// browser here is a script ($BROWSER, which the CLI's xdg-open honours) that hands the URL to
// Chromium; the CLI then exchanges the code, reads userinfo with its `api` token (§8) and the
// REST sliver (§7), and saves the org.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startWorld, makeTempDir } from './lib/server.js';
import { sleep } from './lib/oauth.js';
import { requireSf, sf, showSf } from './lib/sf.js';
import { launchChromium } from './lib/browser.js';

const USERNAME = 'web@example.test';

describe('sf org login web (PlatformCLI)', { concurrency: false, timeout: 600000 }, () => {
  let world;
  let home;
  let browser;

  before(async () => {
    await requireSf();
    home = await makeTempDir('latchkey-e2e-sf-web-home-');
    world = await startWorld({
      users: { alice: { username: USERNAME, name: 'Web User', email: USERNAME } },
      apps: {
        cli: {
          name: 'Salesforce CLI', callbacks: ['http://localhost:1717/OauthRedirect'], scopes: 'refresh_token api web',
          extra: ['--client-id', 'PlatformCLI', '--token-endpoint-auth-method', 'none'],
        },
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await world?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** Waits for the "browser" script to have written the URL the CLI opened. */
  async function openedUrl(file, ms = 60000) {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.trim()) return text.trim();
      await sleep(200);
    }
    throw new Error(`the CLI opened no URL within ${ms} ms`);
  }

  it('logs in through the login and consent pages; the CLI saves the org with the user and org id', async () => {
    const urlFile = path.join(home, 'opened-url');
    const opener = path.join(home, 'browser.sh');
    await writeFile(opener, `#!/bin/sh\nprintf '%s' "$1" > '${urlFile}'\n`);
    await chmod(opener, 0o755);
    const login = sf(home, ['org', 'login', 'web', '--instance-url', world.issuer, '--alias', 'lk-web'],
      { BROWSER: opener, DISPLAY: '', WAYLAND_DISPLAY: '' });
    // Whatever happens in the browser, the CLI's promise must be awaited (it fails the test).
    const done = login.then((r) => r, (e) => ({ error: e }));

    const url = new URL(await Promise.race([openedUrl(urlFile), done.then((r) => {
      throw new Error(`sf ended before opening a browser: ${r.error ?? showSf(r)}`);
    })]));
    assert.equal(url.origin + url.pathname, `${world.issuer}/services/oauth2/authorize`);
    assert.equal(url.searchParams.get('client_id'), 'PlatformCLI');
    assert.equal(url.searchParams.get('redirect_uri'), 'http://localhost:1717/OauthRedirect');
    assert.equal(url.searchParams.get('scope'), 'refresh_token api web');
    assert.equal(url.searchParams.get('prompt'), 'login');
    assert.ok(url.searchParams.get('code_challenge'), url.href);
    assert.equal(url.searchParams.get('code_challenge_method'), null, url.href);

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url.href);
      await page.getByLabel(/user ?name/i).fill(USERNAME);
      await page.getByLabel(/password/i).fill(world.users.alice.password);
      await page.getByRole('button', { name: /log ?in/i }).click();
      const allow = page.getByRole('button', { name: /allow/i });
      await allow.waitFor({ timeout: 10000 });
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith('http://localhost:1717/'), { timeout: 30000 }),
        allow.click(),
      ]);
    } finally {
      await context.close();
    }

    const r = await done;
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.code, 0, showSf(r));
    assert.equal(r.json.result.username, USERNAME, showSf(r));
    assert.equal(r.json.result.orgId, world.users.alice.org_id, showSf(r));

    const display = await sf(home, ['org', 'display', '--target-org', 'lk-web']);
    assert.equal(display.code, 0, showSf(display));
    assert.equal(display.json.result.connectedStatus, 'Connected', showSf(display));
    assert.equal(display.json.result.clientId, 'PlatformCLI', showSf(display));
  });
});
