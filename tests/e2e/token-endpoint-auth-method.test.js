// RFC 7591 §2 token_endpoint_auth_method, per app (`app create --token-endpoint-auth-method`):
// each app authenticates with its registered method only, and others are refused with
// invalid_client. An app registered with --mtls-cert / --mtls-subject-dn authenticates with its
// certificate alone and gets no client secret (a leaked secret would otherwise get unbound
// tokens, RFC 8705 §2); a private_key_jwt app gets none either; `none` is a public client.
// client_secret_basic, the default otherwise, admits the secret in the header or the body (as
// Salesforce does) and private_key_jwt for an app with --cert, as every app did before. An
// existing database is migrated: its apps get the method their registration implies.
import {describe, it, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {createHash, randomUUID} from 'node:crypto';
import {promisify} from 'node:util';
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {SignJWT, importPKCS8} from 'jose';
import {
  startWorld, startServer, makeTempDir, cli, run, createApp, createUser, sql, sqliteOnly,
} from './lib/server.js';
import {makeCert} from './lib/keys.js';
import {form, formHeaders, tlsBaseOf, tlsRequest} from './lib/tls.js';
import {tokenRequest, assertTokenError, assertTokenSuccess, httpGet, show, sleep} from './lib/oauth.js';

const execFileP = promisify(execFile);
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CC = {
  grant_type: 'client_credentials'
};
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const nowS = () => Math.floor(Date.now() / 1000);

async function sqlite3(dbPath, statement) {
  // A running server may hold the write lock for a moment: wait for it rather than fail.
  const {stdout} =
      await execFileP('sqlite3', ['-cmd', '.timeout 5000', dbPath, statement], {timeout: 15000});
  return stdout.trim();
}

/** A private_key_jwt client assertion for `app`, signed with `key`. */
function clientAssertion(issuer, app, key) {
  return new SignJWT({
           iss: app.client_id,
           sub: app.client_id,
           aud: `${issuer}/services/oauth2/token`,
           exp: nowS() + 60,
           jti: randomUUID()
         })
      .setProtectedHeader({alg: 'RS256', typ: 'JWT'})
      .sign(key);
}

const bySecretBasic = (issuer, app, secret) =>
    tokenRequest(issuer, CC, {basic: [app.client_id, secret]});
const bySecretPost = (issuer, app, secret) =>
    tokenRequest(issuer, {...CC, client_id: app.client_id, client_secret: secret});
const byAssertion = async (issuer, app, key) => tokenRequest(issuer, {
  ...CC,
  client_id: app.client_id,
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: await clientAssertion(issuer, app, key),
});

describe('token_endpoint_auth_method per app', {concurrency: true, timeout: 90000}, () => {
  let world;
  let keyDir;
  let tlsBase;
  let server;  // TLS server certificate
  let jwtCert;
  let mtlsCert;

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-authmethod-');
    [server, jwtCert, mtlsCert] = await Promise.all([
      makeCert(keyDir, 'server', {type: 'ec', cn: '127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost'}),
      makeCert(keyDir, 'jwt'),
      makeCert(keyDir, 'mtls'),
    ]);
    jwtCert.key = await importPKCS8(jwtCert.keyPem, 'RS256');
    const runAs = ['--client-credentials-user', 'svc@localhost'];
    world = await startWorld({
      users: {svc: {username: 'svc@localhost', name: 'Service User', email: 'svc@localhost'}},
      apps: {
        secret: {scopes: 'api', extra: runAs},
        post: {
          scopes: 'api',
          extra: [...runAs, '--token-endpoint-auth-method', 'client_secret_post']
        },
        withCert: {scopes: 'api', extra: [...runAs, '--cert', jwtCert.certPath]},
        jwt: {
          scopes: 'api',
          extra: [
            ...runAs, '--cert', jwtCert.certPath, '--token-endpoint-auth-method', 'private_key_jwt'
          ]
        },
        mtls: {scopes: 'api', extra: [...runAs, '--mtls-cert', mtlsCert.certPath]},
        pki: {scopes: 'api', extra: [...runAs, '--mtls-subject-dn', 'CN=etl,O=Example']},
        public: {scopes: 'api refresh_token', extra: ['--token-endpoint-auth-method', 'none']},
      },
      serve: {
        extraArgs: [
          '--tls-listen', '127.0.0.1:0', '--tls-cert', server.certPath, '--tls-key', server.keyPath
        ]
      },
    });
    tlsBase = tlsBaseOf(world.logs());
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, {recursive: true, force: true});
  });

  it('app create prints a client_secret only for apps that authenticate with one; app create and app show print the method',
     async () => {
       const expected = {
         secret: 'client_secret_basic',
         post: 'client_secret_post',
         withCert: 'client_secret_basic',
         jwt: 'private_key_jwt',
         mtls: 'self_signed_tls_client_auth',
         pki: 'tls_client_auth',
         public: 'none',
       };
       for (const [name, method] of Object.entries(expected)) {
         const app = world.apps[name];
         assert.equal(app.token_endpoint_auth_method, method, `${name}: ${JSON.stringify(app)}`);
         const usesSecret = method.startsWith('client_secret_');
         assert.equal(
             typeof app.client_secret === 'string', usesSecret, `${name}: ${JSON.stringify(app)}`);
         const shown = await cli(world.db, ['app', 'show', '--client-id', app.client_id]);
         assert.equal(shown.token_endpoint_auth_method, method, name);
         if (!usesSecret) {
           // Nor can a secret be made for it later.
           const rotated =
               await run(['--db', world.db, 'app', 'rotate-secret', '--client-id', app.client_id]);
           assert.notEqual(rotated.code, 0, `${name}: rotate-secret ${rotated.stdout}`);
           assert.match(rotated.stderr, /not with a client secret/, name);
         }
       }
     });

  it('app create refuses a method the registration cannot use, with a clear message', async () => {
    for (const [extra, what] of [
             [
               [
                 '--mtls-cert', mtlsCert.certPath, '--token-endpoint-auth-method',
                 'client_secret_basic'
               ],
               'self_signed_tls_client_auth only'
             ],
             [
               ['--mtls-subject-dn', 'CN=x', '--token-endpoint-auth-method', 'none'],
               'tls_client_auth only'
             ],
             [['--token-endpoint-auth-method', 'private_key_jwt'], 'needs --cert'],
             [['--token-endpoint-auth-method', 'client_secret_jwt'], 'must be'],
    ]) {
      const r = await run(['--db', world.db, 'app', 'create', '--name', 'refused', ...extra]);
      assert.notEqual(r.code, 0, `${extra.join(' ')} was accepted: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(what), r.stderr);
    }
  });

  it('an mTLS app has no secret: a secret for its client id is invalid_client on either listener; its certificate works',
     async () => {
       const app = world.apps.mtls;
       for (const secret of ['', 'made-up-secret']) {
         const r = await bySecretBasic(world.issuer, app, secret);
         assertTokenError(r, 'invalid_client', {status: 401});
         assertTokenError(await bySecretPost(world.issuer, app, secret), 'invalid_client');
       }
       const overTls = await tlsRequest(`${tlsBase}/services/oauth2/token`, {
         method: 'POST',
         headers: formHeaders,
         body: form({...CC, client_id: app.client_id, client_secret: 'made-up-secret'}),
         ca: server.certPem,
       });
       assertTokenError(overTls, 'invalid_client');
       const withCert = await tlsRequest(`${tlsBase}/services/oauth2/token`, {
         method: 'POST',
         headers: formHeaders,
         body: form({...CC, client_id: app.client_id}),
         cert: mtlsCert.certPem,
         key: mtlsCert.keyPem,
         ca: server.certPem,
       });
       assertTokenSuccess(withCert);
     });

  it('a private_key_jwt app refuses a secret, even a right one (set behind its back); its client assertion works',
     async () => {
       const app = world.apps.jwt;
       // A secret hash written straight into its row, as an app registered before this option had.
       await sql(
           world.db,
           `UPDATE apps SET secret_hash = '${sha256hex('known-secret')}' WHERE client_id = '${
               app.client_id}'`);
       await sleep(1200);  // the server's app cache (--cache-ms 1000)
       assertTokenError(
           await bySecretBasic(world.issuer, app, 'known-secret'), 'invalid_client', {status: 401});
       assertTokenError(await bySecretPost(world.issuer, app, 'known-secret'), 'invalid_client');
       const t = assertTokenSuccess(await byAssertion(world.issuer, app, jwtCert.key));
       assert.equal(t.signature, undefined, 'no secret, no signature');
     });

  it('client_secret_basic and client_secret_post both take the secret in either place; with --cert, private_key_jwt too',
     async () => {
       for (const name of ['secret', 'post', 'withCert']) {
         const app = world.apps[name];
         assertTokenSuccess(await bySecretBasic(world.issuer, app, app.client_secret));
         assertTokenSuccess(await bySecretPost(world.issuer, app, app.client_secret));
       }
       assertTokenSuccess(await byAssertion(world.issuer, world.apps.withCert, jwtCert.key));
       // Without a registered certificate there is nothing to verify an assertion with.
       assertTokenError(
           await byAssertion(world.issuer, world.apps.secret, jwtCert.key), 'invalid_client',
           {status: 400});
     });

  it('a public client (none) has no secret and authenticates with nothing: a secret is invalid_client',
     async () => {
       const app = world.apps.public;
       assertTokenError(await bySecretPost(world.issuer, app, 'anything'), 'invalid_client');
       const shown = await cli(world.db, ['app', 'show', '--client-id', app.client_id]);
       assert.equal(shown.require_secret_web_server, false);
       assert.equal(shown.require_secret_refresh, false);
     });

  it('discovery advertises the methods apps can be registered with', async () => {
    const d = (await httpGet(`${world.issuer}/.well-known/openid-configuration`)).json;
    for (const m
             of ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none',
                 'tls_client_auth', 'self_signed_tls_client_auth']) {
      assert.ok(
          d.token_endpoint_auth_methods_supported.includes(m),
          `${m} missing: ${d.token_endpoint_auth_methods_supported}`);
    }
  });
});

describe(
    'an existing database gets each app the method its registration implies', {timeout: 60000},
    () => {
      let dir;
      let srv;

      after(async () => {
        await srv?.stop();
        if (dir) await rm(dir, {recursive: true, force: true});
      });

      it('after the migration, old apps keep working and an old mTLS app no longer takes its secret',
         {skip: sqliteOnly('SQLite schema version 5 to 6')}, async () => {
           dir = await makeTempDir('latchkey-e2e-authmethod-migration-');
           const dbPath = path.join(dir, 'lk.db');
           const db = `sqlite:${dbPath}`;
           const cert = await makeCert(dir, 'jwt');
           const mtls = await makeCert(dir, 'mtls');
           cert.key = await importPKCS8(cert.keyPem, 'RS256');
           await createUser(db, {username: 'svc@localhost', name: 'Service User'});
           const runAs = ['--client-credentials-user', 'svc@localhost'];
           const secretApp = await createApp(db, {name: 'secret', scopes: 'api', extra: runAs});
           const certApp = await createApp(
               db, {name: 'cert', scopes: 'api', extra: [...runAs, '--cert', cert.certPath]});
           const mtlsApp = await createApp(
               db, {name: 'mtls', scopes: 'api', extra: [...runAs, '--mtls-cert', mtls.certPath]});
           const latest = await sqlite3(dbPath, 'PRAGMA user_version');
           // Back to the version-5 schema, where every app had a secret, the mTLS app's included
           // (and without what later versions added: migration 7's allow_password_flow,
           // migration 8's tokens.rotated_ms and migration 9's admin_tokens).
           await sqlite3(
               dbPath,
               `DROP TABLE admin_tokens; ALTER TABLE tokens DROP COLUMN rotated_ms;
      ALTER TABLE apps DROP COLUMN allow_password_flow;
      ALTER TABLE apps DROP COLUMN token_endpoint_auth_method; DROP TABLE replay_keys;
      UPDATE apps SET secret_hash = '${sha256hex('old-mtls-secret')}' WHERE client_id = '${
                   mtlsApp.client_id}';
      PRAGMA user_version = 5;`);
           assert.equal(await sqlite3(dbPath, 'PRAGMA user_version'), '5');

           srv = await startServer(db);
           assert.equal(await sqlite3(dbPath, 'PRAGMA user_version'), latest);
           assertTokenSuccess(await bySecretBasic(srv.issuer, secretApp, secretApp.client_secret));
           assertTokenSuccess(await bySecretPost(srv.issuer, certApp, certApp.client_secret));
           assertTokenSuccess(await byAssertion(srv.issuer, certApp, cert.key));
           const r = await bySecretBasic(srv.issuer, mtlsApp, 'old-mtls-secret');
           assertTokenError(r, 'invalid_client', {status: 401});
           const shown = await cli(db, ['app', 'show', '--client-id', mtlsApp.client_id]);
           assert.equal(shown.token_endpoint_auth_method, 'self_signed_tls_client_auth', show(r));
           assert.equal(
               (await cli(db, ['app', 'show', '--client-id', certApp.client_id]))
                   .token_endpoint_auth_method,
               'client_secret_basic');
         });
    });
