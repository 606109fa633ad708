// docs/behaviour.md §5.8: the client credentials grant — only for apps with --client-credentials-user, the
// token acts as that user, no refresh token; client authentication by secret (Basic or POST)
// or private_key_jwt (§5.1), a client assertion is single-use. The run-as user must be active
// ("authentication failure" otherwise) and, for an admin-approved app, pre-authorized (issue 3:
// a user the app does not cover cannot use it in any flow). Raw HTTP and Authlib
// (py/authlib_client.py, run with Debian's /usr/bin/python3 which has python3-authlib).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorld, makeTempDir, cli, eventually } from './lib/server.js';
import { makeCert } from './lib/keys.js';
import {
  tokenRequest, assertTokenError, assertTokenSuccess, userinfo, expectedSignature, show,
} from './lib/oauth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.E2E_PYTHON ?? '/usr/bin/python3';
const AUTHLIB_CLIENT = path.join(here, 'py', 'authlib_client.py');
const GRANT = 'client_credentials';
const NO_USER = 'no client credentials user enabled';
const NOT_APPROVED = "user hasn't approved this consumer";
const AUTH_FAILURE = 'authentication failure';
const INTEGRATION = 'Integration User';

/** Runs py/authlib_client.py; resolves its JSON output. */
function authlib(args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('PYENV') || k === 'PYTHONPATH' || k === 'PYTHONHOME') delete env[k];
    execFile(PYTHON, [AUTHLIB_CLIENT, ...args], { timeout: 30000, env }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`authlib_client.py failed (${err.code}): ${stderr || err.message}\n${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`authlib_client.py printed non-JSON: ${stdout.slice(0, 500)}\n${stderr}`));
      }
    });
  });
}

describe('client credentials grant', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let keyDir;
  let cert;
  let otherCert;

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-cc-');
    [cert, otherCert] = await Promise.all([makeCert(keyDir, 'cc'), makeCert(keyDir, 'other')]);
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' },
        carol: { username: 'carol@localhost', name: 'Carol Batch', email: 'carol@localhost', extra: ['--profile', INTEGRATION] },
        dave: { username: 'dave@localhost', name: 'Dave Retired', email: 'dave@localhost' },
      },
      apps: {
        // refresh_token among the scopes: client credentials must still not return one.
        cc: { scopes: 'api refresh_token openid profile', extra: ['--client-credentials-user', 'bob@localhost', '--cert', cert.certPath] },
        nocc: { scopes: 'api refresh_token', extra: ['--cert', otherCert.certPath] },
        // Wrong-secret tests use their own app: failed secrets count towards a per-client lockout
        // (docs/behaviour.md §6), which must not reach the concurrently running tests that expect success.
        ccbad: { scopes: 'api', extra: ['--client-credentials-user', 'bob@localhost'] },
        // Admin-approved, run as carol, whose profile is pre-authorized only within one test.
        ccadmin: { scopes: 'api', extra: ['--client-credentials-user', 'carol@localhost', '--permitted-users', 'admin-approved', '--cert', cert.certPath] },
        // Run as dave, who is deactivated within one test.
        ccretired: { scopes: 'api', extra: ['--client-credentials-user', 'dave@localhost'] },
      },
    });
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  const tokenUrl = () => `${world.issuer}/services/oauth2/token`;

  async function assertActsAsBob(r, { secret } = {}) {
    const t = assertTokenSuccess(r);
    const bob = world.users.bob;
    assert.equal(t.token_type, 'Bearer', show(r));
    assert.equal(t.instance_url, world.issuer, show(r));
    assert.equal(t.id, `${world.issuer}/id/${bob.org_id}/${bob.user_id}`, show(r));
    assert.match(t.issued_at, /^\d{13}$/, show(r));
    assert.equal(typeof t.expires_in, 'number', show(r));
    assert.ok(t.scope.split(' ').includes('api'), show(r));
    assert.equal(t.refresh_token, undefined, `client credentials must not return a refresh token: ${show(r)}`);
    if (secret) assert.equal(t.signature, expectedSignature(secret, t.id, t.issued_at), show(r));
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.preferred_username, 'bob@localhost', show(ui));
    assert.equal(ui.json.user_id, bob.user_id, show(ui));
    return t;
  }

  describe('raw HTTP', { concurrency: true }, () => {
    it('client_secret_basic → token acting as the run-as user, no refresh_token', async () => {
      const app = world.apps.cc;
      const r = await tokenRequest(world.issuer, { grant_type: GRANT }, { basic: [app.client_id, app.client_secret] });
      await assertActsAsBob(r, { secret: app.client_secret });
    });

    it('client_secret_post → token acting as the run-as user, no refresh_token', async () => {
      const app = world.apps.cc;
      const r = await tokenRequest(world.issuer, { grant_type: GRANT, client_id: app.client_id, client_secret: app.client_secret });
      await assertActsAsBob(r, { secret: app.client_secret });
    });

    it('an app without a run-as user → invalid_grant "no client credentials user enabled"', async () => {
      const app = world.apps.nocc;
      assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT }, { basic: [app.client_id, app.client_secret] }),
        'invalid_grant', { description: NO_USER });
      assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT, client_id: app.client_id, client_secret: app.client_secret }),
        'invalid_grant', { description: NO_USER });
    });

    it('a wrong secret with Basic → 401 invalid_client with a Basic challenge', async () => {
      const app = world.apps.ccbad;
      const r = await tokenRequest(world.issuer, { grant_type: GRANT }, { basic: [app.client_id, app.client_secret + 'x'] });
      assertTokenError(r, 'invalid_client', { status: 401, description: 'invalid client credentials' });
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic\b/i, `WWW-Authenticate: ${r.headers.get('www-authenticate')}`);
      assert.equal(r.json.access_token, undefined);
    });

    it('an unknown client id with Basic → 401 invalid_client', async () => {
      const r = await tokenRequest(world.issuer, { grant_type: GRANT }, { basic: ['3MVG9nosuchclient', 'secret'] });
      assertTokenError(r, 'invalid_client', { status: 401 });
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic\b/i);
    });

    it('a wrong secret in the body → invalid_client', async () => {
      const app = world.apps.ccbad;
      const r = await tokenRequest(world.issuer, { grant_type: GRANT, client_id: app.client_id, client_secret: 'wrong' });
      assertTokenError(r, 'invalid_client', { description: 'invalid client credentials' });
    });

    it('no secret (client_id only, or nothing) → invalid_client', async () => {
      const app = world.apps.ccbad;
      assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT, client_id: app.client_id }), 'invalid_client');
      assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT, client_id: app.client_id, client_secret: '' }), 'invalid_client');
      assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT }), 'invalid_client');
    });

    it('another app\'s secret does not authenticate the run-as app', async () => {
      const r = await tokenRequest(world.issuer, {
        grant_type: GRANT, client_id: world.apps.ccbad.client_id, client_secret: world.apps.nocc.client_secret,
      });
      assertTokenError(r, 'invalid_client');
    });
  });

  describe('the run-as user', { concurrency: true }, () => {
    const bySecret = (app) => tokenRequest(world.issuer, { grant_type: GRANT }, { basic: [app.client_id, app.client_secret] });

    it('admin-approved app: refused until the run-as user\'s profile is pre-authorized, and again once it is withdrawn', async () => {
      const app = world.apps.ccadmin;
      assertTokenError(await bySecret(app), 'invalid_grant', { description: NOT_APPROVED });
      // private_key_jwt is refused alike: it is the user, not the client, who is not covered.
      const viaJwt = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', cert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120']);
      assert.equal(viaJwt.results[0].error, 'invalid_grant', JSON.stringify(viaJwt.results[0]));
      assert.equal(viaJwt.results[0].error_description, NOT_APPROVED, JSON.stringify(viaJwt.results[0]));

      await cli(world.db, ['app', 'preauthorize', '--client-id', app.client_id, '--profile', INTEGRATION]);
      // The server reads apps again once its cached copy is older than --cache-ms (1 s).
      const ok = await eventually(() => bySecret(app), (r) => r.status === 200);
      const t = assertTokenSuccess(ok);
      const carol = world.users.carol;
      assert.equal(t.id, `${world.issuer}/id/${carol.org_id}/${carol.user_id}`, show(ok));

      await cli(world.db, ['app', 'unpreauthorize', '--client-id', app.client_id, '--profile', INTEGRATION]);
      const again = await eventually(() => bySecret(app), (r) => r.status !== 200);
      assertTokenError(again, 'invalid_grant', { description: NOT_APPROVED });
    });

    it('an inactive run-as user (user update --active false) → invalid_grant "authentication failure"', async () => {
      const app = world.apps.ccretired;
      assertTokenSuccess(await bySecret(app));
      await cli(world.db, ['user', 'update', '--username', 'dave@localhost', '--active', 'false']);
      const r = await eventually(() => bySecret(app), (res) => res.status !== 200);
      assertTokenError(r, 'invalid_grant', { description: AUTH_FAILURE });
    });
  });

  describe('Authlib OAuth2Session', { concurrency: true }, () => {
    it('client_secret_basic → token acting as bob', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--secret', app.client_secret,
        '--method', 'client_secret_basic']);
      const [res] = out.results;
      assert.ok(res.ok, JSON.stringify(res));
      assert.equal(res.status, 200);
      await assertActsAsBob({ status: 200, json: res.token, text: JSON.stringify(res.token), headers: new Headers() },
        { secret: app.client_secret });
    });

    it('client_secret_post → token acting as bob', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--secret', app.client_secret,
        '--method', 'client_secret_post']);
      const [res] = out.results;
      assert.ok(res.ok, JSON.stringify(res));
      await assertActsAsBob({ status: 200, json: res.token, text: JSON.stringify(res.token), headers: new Headers() },
        { secret: app.client_secret });
    });

    it('a wrong secret → invalid_client (401 with Basic)', async () => {
      const app = world.apps.ccbad;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--secret', 'nope',
        '--method', 'client_secret_basic']);
      const [res] = out.results;
      assert.equal(res.ok, false, JSON.stringify(res));
      assert.equal(res.error, 'invalid_client', JSON.stringify(res));
      assert.equal(res.status, 401, JSON.stringify(res));
    });

    it('an app without a run-as user → invalid_grant "no client credentials user enabled"', async () => {
      const app = world.apps.nocc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--secret', app.client_secret,
        '--method', 'client_secret_post']);
      const [res] = out.results;
      assert.equal(res.ok, false, JSON.stringify(res));
      assert.equal(res.error, 'invalid_grant', JSON.stringify(res));
      assert.equal(res.error_description, NO_USER, JSON.stringify(res));
      assert.equal(res.status, 400, JSON.stringify(res));
    });

    it('private_key_jwt (PrivateKeyJWT, aud = token URL, 2-minute assertions) → token acting as bob, no refresh_token', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', cert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120', '--repeat', '2']);
      assert.equal(out.results.length, 2);
      for (const res of out.results) {
        assert.ok(res.ok, JSON.stringify(res));
        await assertActsAsBob({ status: 200, json: res.token, text: JSON.stringify(res.token), headers: new Headers() });
      }
      assert.notEqual(out.assertions[0], out.assertions[1], 'Authlib signs a fresh assertion each time');
    });

    it('private_key_jwt with aud = the issuer → token acting as bob', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', cert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120', '--aud', world.issuer]);
      const [res] = out.results;
      assert.ok(res.ok, JSON.stringify(res));
      await assertActsAsBob({ status: 200, json: res.token, text: JSON.stringify(res.token), headers: new Headers() });
    });

    it('private_key_jwt with Authlib\'s default assertion lifetime (exp = iat + 3600) → token', async () => {
      // Standard clients work unchanged (README): Authlib too. Authlib's PrivateKeyJWT signs exp one hour ahead; RFC 7523
      // sets no maximum lifetime and the jti is remembered until exp anyway.
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', cert.keyPath,
        '--method', 'private_key_jwt']);
      const [res] = out.results;
      const claims = JSON.parse(Buffer.from(out.assertions[0].split('.')[1], 'base64url'));
      assert.equal(claims.exp - claims.iat, 3600, `Authlib's default lifetime changed: ${JSON.stringify(claims)}`);
      assert.ok(res.ok, `Authlib's default private_key_jwt assertion was refused: ${JSON.stringify(res)} claims=${JSON.stringify(claims)}`);
      await assertActsAsBob({ status: 200, json: res.token, text: JSON.stringify(res.token), headers: new Headers() });
    });

    it('private_key_jwt signed with a key other than the app certificate → invalid_client', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', otherCert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120']);
      const [res] = out.results;
      assert.equal(res.ok, false, JSON.stringify(res));
      assert.equal(res.error, 'invalid_client', JSON.stringify(res));
    });

    it('a reused client assertion (same jti) → invalid_client', async () => {
      const app = world.apps.cc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', cert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120', '--repeat', '2', '--reuse-assertion']);
      assert.equal(out.assertions.length, 2);
      assert.equal(out.assertions[0], out.assertions[1], 'the same assertion must have been sent twice');
      const [first, second] = out.results;
      assert.ok(first.ok, JSON.stringify(first));
      assert.equal(second.ok, false, `a replayed client assertion was accepted: ${JSON.stringify(second)}`);
      assert.equal(second.error, 'invalid_client', JSON.stringify(second));
      assert.ok(second.status === 400 || second.status === 401, JSON.stringify(second));

      // The replay is refused when sent by raw HTTP as well.
      const r = await tokenRequest(world.issuer, {
        grant_type: GRANT, client_id: app.client_id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: out.assertions[0],
      });
      assertTokenError(r, 'invalid_client');
    });

    it('private_key_jwt on an app without a run-as user → invalid_grant "no client credentials user enabled"', async () => {
      const app = world.apps.nocc;
      const out = await authlib(['--token-url', tokenUrl(), '--client-id', app.client_id, '--key', otherCert.keyPath,
        '--method', 'private_key_jwt', '--expires-in', '120']);
      const [res] = out.results;
      assert.equal(res.ok, false, JSON.stringify(res));
      assert.equal(res.error, 'invalid_grant', JSON.stringify(res));
      assert.equal(res.error_description, NO_USER, JSON.stringify(res));
    });
  });
});
