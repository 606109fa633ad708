// The real Salesforce CLI (`@salesforce/cli`, pinned with the Node.js 22 it needs in
// tests/e2e/sf-cli, installed by scripts/install-deps.sh test) against latchkey, unchanged:
// `sf org login jwt` (docs/behaviour.md §5.6: no client_id, exp in milliseconds, aud with a
// trailing slash), then `sf org display`, `sf org list` and `sf org open --url-only`, which
// call the REST sliver of §7, and the front-door URL opened in Chromium. jsforce keeps working
// with the token the CLI holds. The CLI runs with its home, config and data directories in a
// temp dir, telemetry and update checks off and no DNS check: it talks to 127.0.0.1 only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { SignJWT, importPKCS8 } from 'jose';
import jsforce from 'jsforce';
import { startWorld, makeTempDir, cli, CALLBACK } from './lib/server.js';
import { makeCert } from './lib/keys.js';
import { authorizeUrl } from './lib/oauth.js';
import { launchChromium } from './lib/browser.js';
import { requireSf, sf, showSf } from './lib/sf.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const INTEGRATION = 'Integration User';
// sf lists only orgs whose username's domain has a dot (its auth files are matched by
// name@domain.tld.json), as every real Salesforce username has.
const USERNAME = 'ci@example.test';


describe('Salesforce CLI (sf) against latchkey', { concurrency: false, timeout: 600000 }, () => {
  let world;
  let keyDir;
  let home;
  let jwtKey;
  let browser;
  let key; // {keyPath, certPath, keyPem}

  before(async () => {
    // Installed by `scripts/install-deps.sh test`: a missing CLI fails the suite, it does not skip.
    await requireSf();
    keyDir = await makeTempDir('latchkey-e2e-sf-');
    home = await makeTempDir('latchkey-e2e-sf-home-');
    key = await makeCert(keyDir, 'sf-jwt');
    jwtKey = await importPKCS8(key.keyPem, 'RS256');
    world = await startWorld({
      users: {
        ci: { username: USERNAME, name: 'Ci Runner', email: USERNAME, extra: ['--profile', INTEGRATION] },
      },
      apps: {
        // What the CLI's JWT login needs: the certificate of its key, the user pre-authorized;
        // `web` for `sf org open`, `id` for jsforce's identity().
        sf: { callbacks: [], scopes: 'api web id refresh_token', extra: ['--cert', key.certPath, '--permitted-users', 'admin-approved'] },
        // An app the browser is sent to afterwards, to see whether the front door signed it in.
        portal: { scopes: 'api openid', callbacks: [CALLBACK] },
      },
      serve: { extraArgs: ['--audience-alias', 'https://login.salesforce.com'] },
    });
    await cli(world.db, ['app', 'preauthorize', '--client-id', world.apps.sf.client_id, '--profile', INTEGRATION]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await world?.stop();
    for (const d of [keyDir, home]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('sf org login jwt --instance-url http://127.0.0.1:PORT succeeds on its first audience', async () => {
    const r = await sf(home, ['org', 'login', 'jwt', '--instance-url', world.issuer, '--client-id', world.apps.sf.client_id,
      '--jwt-key-file', key.keyPath, '--username', USERNAME]);
    assert.equal(r.code, 0, showSf(r));
    assert.equal(r.json.status, 0, showSf(r));
    assert.equal(r.json.result.username, USERNAME, showSf(r));
    assert.equal(r.json.result.orgId, world.users.ci.org_id, showSf(r));
    assert.equal(r.json.result.instanceUrl, world.issuer, showSf(r));
    // The Organization query answered and the ScratchOrgInfo probe failed: a plain org.
    assert.equal(r.json.result.isDevHub, false, showSf(r));
    assert.equal(r.json.result.isSandbox, false, showSf(r));
    assert.equal(r.json.result.isScratch, false, showSf(r));
    assert.equal(r.json.result.name, 'latchkey', showSf(r));
    assert.match(r.json.result.instanceApiVersion, /^[1-9]\d\.0$/, showSf(r));
    // One token request, answered: the CLI never went on to Salesforce's own hosts.
    const tokenLines = world.logs().split('\n').filter((l) => l.includes('path=/services/oauth2/token'));
    assert.equal(tokenLines.length, 1, tokenLines.join('\n'));
    assert.match(tokenLines[0], /status=200/);
  });

  it('sf org display --json shows the org id, the username and "Connected"; jsforce identity() works with its token', async () => {
    // SF_TEMP_SHOW_SECRETS: the CLI's own switch to print the access token it holds.
    const r = await sf(home, ['org', 'display', '--target-org', USERNAME], { SF_TEMP_SHOW_SECRETS: 'true' });
    assert.equal(r.code, 0, showSf(r));
    const org = r.json.result;
    assert.equal(org.id, world.users.ci.org_id, showSf(r));
    assert.equal(org.username, USERNAME, showSf(r));
    assert.equal(org.connectedStatus, 'Connected', showSf(r));
    assert.equal(org.instanceUrl, world.issuer, showSf(r));
    assert.match(org.accessToken, /^00D\w{12,15}!/, 'an access token of latchkey\'s shape');

    const conn = new jsforce.Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: org.apiVersion });
    const id = await conn.identity();
    assert.equal(id.username, USERNAME);
    assert.equal(id.user_id, world.users.ci.user_id);
    assert.equal(id.organization_id, world.users.ci.org_id);
    const q = await conn.query('SELECT Id, Name FROM Organization');
    assert.equal(q.totalSize, 1);
    assert.equal(q.records[0].Id, world.users.ci.org_id);
    const user = await conn.sobject('User').retrieve(world.users.ci.user_id);
    assert.equal(user.Username, USERNAME);
  });

  it('sf org list --json lists the org, connected, and not as a Dev Hub', async () => {
    const r = await sf(home, ['org', 'list']);
    assert.equal(r.code, 0, showSf(r));
    const all = [...r.json.result.other, ...r.json.result.nonScratchOrgs];
    const mine = all.filter((o) => o.username === USERNAME);
    assert.ok(mine.length >= 1, `not listed: ${showSf(r)}`);
    for (const o of mine) {
      assert.equal(o.orgId, world.users.ci.org_id, showSf(r));
      assert.equal(o.connectedStatus, 'Connected', showSf(r));
      assert.equal(o.isDevHub, false, showSf(r));
    }
    assert.ok(r.json.result.other.some((o) => o.username === USERNAME), `not among the other (non-Dev Hub) orgs: ${showSf(r)}`);
    assert.deepEqual(r.json.result.devHubs, [], showSf(r));
  });

  it('sf org open --url-only gives a one-time front-door URL that signs Chromium in', async () => {
    const r = await sf(home, ['org', 'open', '--url-only', '--target-org', USERNAME]);
    assert.equal(r.code, 0, showSf(r));
    const url = r.json.result.url;
    assert.ok(url.startsWith(`${world.issuer}/secur/frontdoor.jsp?otp=`), showSf(r));

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const landed = await page.goto(url);
      assert.equal(landed.status(), 200);
      assert.equal(page.url(), `${world.issuer}/`);
      // Signed in: an authorize request goes to the consent page for this user, no login page.
      await page.goto(authorizeUrl(world.issuer, {
        response_type: 'code', client_id: world.apps.portal.client_id, redirect_uri: CALLBACK, scope: 'api openid', state: 's1', nonce: 'n1',
      }));
      assert.equal(await page.locator('input[name="password"]').count(), 0, await page.content());
      assert.equal(await page.locator('button[name="decision"]').count() > 0, true, await page.content());
      assert.ok((await page.content()).includes(USERNAME), 'the consent page names the signed-in user');

      // The URL works once, in any browser.
      const other = await browser.newContext();
      try {
        const again = await (await other.newPage()).goto(url);
        assert.equal(again.status(), 401);
        assert.deepEqual((await other.cookies()).filter((c) => c.name === 'lk_sid'), []);
      } finally {
        await other.close();
      }
    } finally {
      await context.close();
    }
  });

  it('what jsforce-style and Python clients send also works: exp as a numeric string, aud an --audience-alias', async () => {
    const nowMs = Date.now();
    const claims = { iss: world.apps.sf.client_id, sub: USERNAME, aud: 'https://login.salesforce.com', exp: String(Math.floor(nowMs / 1000) + 120) };
    const assertion = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(jwtKey);
    // As sfdx-core asks jsforce for it: only grant_type and assertion.
    const res = await new jsforce.OAuth2({ loginUrl: world.issuer }).requestToken({ grant_type: GRANT, assertion });
    assert.match(res.access_token, /^00D/);
    assert.equal(res.instance_url, world.issuer);
    // An exp in milliseconds an hour ahead is still too far ahead.
    const far = await new SignJWT({ ...claims, exp: nowMs + 3600 * 1000 }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(jwtKey);
    await assert.rejects(new jsforce.OAuth2({ loginUrl: world.issuer }).requestToken({ grant_type: GRANT, assertion: far }),
      /invalid_grant|invalid assertion/);
  });
});
