// The real Salesforce CLI's `sf org login access-token` (lib/sf.js) with the access tokens
// latchkey issues: the `00D…!…` opaque ones, and the JWT access tokens of an app created with
// --token-format jwt-sf, whose header typ "JWT" the CLI requires (docs/behaviour.md §5.12); an
// RFC 9068 `at+jwt` token (--token-format jwt) is refused by the CLI before it calls anything.
// The CLI then reads userinfo (user_id, organization_id; §8) and sobjects/User/{id} (§7).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { decodeProtectedHeader } from 'jose';
import { startWorld, makeTempDir } from './lib/server.js';
import { codeFlow } from './lib/oauth.js';
import { requireSf, sf, showSf } from './lib/sf.js';

// sf keeps its auth files by username; a real Salesforce username's domain has a dot.
const USERNAME = 'dev@example.test';

describe('sf org login access-token', { concurrency: false, timeout: 600000 }, () => {
  let world;
  let home;

  before(async () => {
    await requireSf();
    home = await makeTempDir('latchkey-e2e-sf-token-home-');
    world = await startWorld({
      users: { alice: { username: USERNAME, name: 'Dev Eloper', email: USERNAME } },
      apps: {
        opaque: { scopes: 'refresh_token api web' },
        jwtsf: { scopes: 'refresh_token api web', extra: ['--token-format', 'jwt-sf'] },
        rfc9068: { scopes: 'refresh_token api web', extra: ['--token-format', 'jwt'] },
      },
    });
  });
  after(async () => {
    await world?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function login(app, alias) {
    const { tokens } = await codeFlow(world, { app, scope: 'refresh_token api web' });
    const r = await sf(home, ['org', 'login', 'access-token', '--instance-url', world.issuer, '--no-prompt', '--alias', alias],
      { SF_ACCESS_TOKEN: tokens.access_token });
    return { tokens, r };
  }

  for (const [key, typ] of [['jwtsf', 'JWT'], ['opaque', null]]) {
    it(`a ${typ ? `typ "${typ}" JWT` : '00D…!… opaque'} access token logs the CLI in as the user of the org`, async () => {
      const { tokens, r } = await login(world.apps[key], `lk-${key}`);
      if (typ) assert.equal(decodeProtectedHeader(tokens.access_token).typ, typ);
      assert.equal(r.code, 0, showSf(r));
      assert.equal(r.json.status, 0, showSf(r));
      assert.equal(r.json.result.orgId, world.users.alice.org_id, showSf(r));
      assert.equal(r.json.result.username, USERNAME, showSf(r));
      // The CLI keeps the --instance-url it was given, as a URL (with a trailing slash).
      assert.equal(r.json.result.instanceUrl.replace(/\/$/, ''), world.issuer, showSf(r));
    });
  }

  it('an RFC 9068 at+jwt access token is refused by the CLI (why jwt-sf exists)', async () => {
    const { tokens, r } = await login(world.apps.rfc9068, 'lk-rfc9068');
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
    assert.notEqual(r.code, 0, showSf(r));
    assert.equal(r.json.result, undefined, showSf(r));
  });
});
