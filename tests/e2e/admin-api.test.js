// docs/admin-api.md: the admin REST API on its own listener (serve --admin-listen), against a
// real server: admin tokens (latchkey admin-token), the app, user, token and key operations,
// the audit log naming the admin, pagination; every answer validated against the schemas of
// docs/admin-api.openapi.json (ajv), and a real OAuth client (openid-client) using what the API
// made.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import * as client from 'openid-client';
import { startWorld, cli, run, eventually, makeTempDir } from './lib/server.js';
import { introspect, tokenRequest } from './lib/oauth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOC_PATH = path.join(here, '..', '..', 'docs', 'admin-api.openapi.json');

describe('admin API', { concurrency: true, timeout: 120000 }, () => {
  let world;
  let base;
  let token;
  let doc;
  let auditPath;
  let auditDir;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  before(async () => {
    doc = JSON.parse(await readFile(DOC_PATH, 'utf8'));
    ajv.addSchema(doc, 'openapi');
    auditDir = await makeTempDir('latchkey-e2e-admin-');
    auditPath = path.join(auditDir, 'audit.log');
    world = await startWorld({
      users: { runas: { username: 'runas@localhost', name: 'Run As', email: 'runas@localhost' } },
      serve: { extraArgs: ['--admin-listen', '127.0.0.1:0', '--audit-log', auditPath] },
    });
    base = world.server.adminUrl;
    assert.ok(base, 'the server printed its admin listener');
    token = (await cli(world.db, ['admin-token', 'create', '--name', 'ops-alice'])).token;
    assert.match(token, /^lka_[0-9A-Za-z]{43}$/);
  });
  after(async () => {
    await world?.stop();
    if (auditDir) await rm(auditDir, { recursive: true, force: true });
  });

  /** Calls the API; validates a JSON answer against the document's response schema. */
  async function api(method, p, { body, auth = token, status, at = base } = {}) {
    const headers = { accept: 'application/json' };
    if (auth) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(at + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (status !== undefined) assert.equal(res.status, status, `${method} ${p}: ${text}`);
    validate(method, p, res.status, json);
    return { status: res.status, json, headers: res.headers };
  }

  /** The document's schema for this path, method and status; asserts the answer fits it. */
  function validate(method, p, status, json) {
    const route = p.split('?')[0];
    const template = Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(route));
    assert.ok(template, `${route} is in the OpenAPI document`);
    const op = doc.paths[template][method.toLowerCase()];
    assert.ok(op, `${method} ${template} is in the OpenAPI document`);
    let answer = op.responses[String(status)];
    assert.ok(answer, `${method} ${template} documents status ${status}`);
    if (answer.$ref) answer = doc.components.responses[answer.$ref.split('/').pop()];
    const schema = answer.content?.['application/json']?.schema;
    if (!schema) return;
    const ref = schema.$ref ? `openapi${schema.$ref}` : null;
    const check = ref ? ajv.getSchema(ref) : ajv.compile(schema);
    assert.ok(check(json), `${method} ${p} ${status} fits the document: ${ajv.errorsText(check.errors)}\n${JSON.stringify(json)}`);
  }

  it('refuses a request without a token, with a wrong one and with a revoked one (401, Bearer)', async () => {
    const none = await api('GET', '/admin/v1/apps', { auth: null, status: 401 });
    assert.equal(none.json.error, 'invalid_token');
    assert.match(none.headers.get('www-authenticate'), /^Bearer realm="latchkey-admin"$/);
    const wrong = await api('GET', '/admin/v1/apps', { auth: `lka_${'x'.repeat(43)}`, status: 401 });
    assert.match(wrong.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
    const doomed = (await cli(world.db, ['admin-token', 'create', '--name', 'doomed'])).token;
    await api('GET', '/admin/v1/users', { auth: doomed, status: 200 });
    const listed = await cli(world.db, ['admin-token', 'list']);
    assert.ok(listed.admin_tokens.some((t) => t.name === 'doomed'));
    assert.ok(!JSON.stringify(listed).includes(doomed), 'the list shows no token');
    await cli(world.db, ['admin-token', 'revoke', '--name', 'doomed']);
    await api('GET', '/admin/v1/users', { auth: doomed, status: 401 });
  });

  it('serves its OpenAPI document, which routes every path it names', async () => {
    const res = await fetch(`${base}/admin/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), doc);
    const nothing = await fetch(`${base}/admin/v1/nothing`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(nothing.status, 404);
    assert.equal((await nothing.json()).error, 'not_found');
    const put = await fetch(`${base}/admin/v1/users`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
  });

  it('creates an app whose secret works for client credentials; a rotated secret replaces it', async () => {
    const made = await api('POST', '/admin/v1/apps', {
      status: 201,
      body: { name: 'API made', scopes: 'api', client_credentials_user: 'runas@localhost' },
    });
    const { client_id: clientId, client_secret: secret } = made.json;
    assert.ok(secret);
    const shown = await api('GET', `/admin/v1/apps/${encodeURIComponent(clientId)}`, { status: 200 });
    assert.equal(shown.json.name, 'API made');
    assert.equal(shown.json.client_secret, undefined, 'the secret is shown once');

    const grant = async (s) => {
      const config = await client.discovery(new URL(world.issuer), clientId, { client_secret: s },
        client.ClientSecretBasic(s), { execute: [client.allowInsecureRequests] });
      return client.clientCredentialsGrant(config);
    };
    const tokens = await grant(secret);
    assert.ok(tokens.access_token);

    const rotated = await api('POST', `/admin/v1/apps/${encodeURIComponent(clientId)}/secret`, { status: 200 });
    const fresh = rotated.json.client_secret;
    assert.notEqual(fresh, secret);
    // This server's cache drops the app at once: no wait.
    const old = await tokenRequest(world.issuer, { grant_type: 'client_credentials' }, { basic: [clientId, secret] });
    assert.equal(old.status, 401, `the old secret is refused: ${JSON.stringify(old.json)}`);
    assert.ok((await grant(fresh)).access_token);
    await api('POST', '/admin/v1/apps/no-such-app/secret', { status: 404 });
    await api('POST', '/admin/v1/apps', { status: 409, body: { name: 'again', client_id: clientId } });
    // Deleted: its secret and its tokens stop working at once.
    const gone = await api('DELETE', `/admin/v1/apps/${encodeURIComponent(clientId)}`, { status: 200 });
    assert.deepEqual(gone.json, { client_id: clientId, deleted: true });
    const after = await tokenRequest(world.issuer, { grant_type: 'client_credentials' }, { basic: [clientId, fresh] });
    assert.equal(after.status, 401, `a deleted app's secret is refused: ${JSON.stringify(after.json)}`);
    await api('GET', `/admin/v1/apps/${encodeURIComponent(clientId)}`, { status: 404 });
  });

  it('deactivating a user revokes their tokens: introspection says inactive', async () => {
    await api('POST', '/admin/v1/users', {
      status: 201, body: { username: 'dora@localhost', password: 'a long enough password', name: 'Dora Explorer' },
    });
    const made = await api('POST', '/admin/v1/apps', {
      status: 201, body: { name: 'Dora app', scopes: 'api', client_credentials_user: 'dora@localhost' },
    });
    const app = made.json;
    const issued = await tokenRequest(world.issuer, { grant_type: 'client_credentials' }, { basic: [app.client_id, app.client_secret] });
    assert.equal(issued.status, 200);
    assert.equal((await introspect(world, app, issued.json.access_token)).json.active, true);
    const updated = await api('PATCH', '/admin/v1/users/dora@localhost', { status: 200, body: { active: false } });
    assert.equal(updated.json.active, false);
    assert.equal((await introspect(world, app, issued.json.access_token)).json.active, false);
    const shown = await api('GET', '/admin/v1/users/dora@localhost', { status: 200 });
    assert.equal(shown.json.active, false);
    await api('PATCH', '/admin/v1/users/dora@localhost', { status: 400, body: { activ: true } });
    await api('DELETE', '/admin/v1/users/dora@localhost/tokens', { status: 200 });
  });

  it('rotating a key publishes it in the JWKS at once', async () => {
    const rotated = await api('POST', '/admin/v1/keys/rotate', { status: 200, body: { alg: 'ES256' } });
    const kid = rotated.json.rotated.kid;
    const jwks = await (await fetch(`${world.issuer}/id/keys`)).json();
    assert.ok(jwks.keys.some((k) => k.kid === kid), `JWKS has ${kid}`);
    const keys = await api('GET', '/admin/v1/keys', { status: 200 });
    assert.ok(keys.json.keys.some((k) => k.kid === kid && k.state === 'active'));
  });

  it('writes each change to the audit log with the admin token\'s name; the tail reads it back', async () => {
    await api('POST', '/admin/v1/users', {
      status: 201, body: { username: 'audited@localhost', password: 'a long enough password' },
    });
    const line = await eventually(async () => (await readFile(auditPath, 'utf8')).split('\n')
      .filter(Boolean).map((l) => JSON.parse(l))
      .find((e) => e.event === 'admin_change' && e.detail === 'createUser' && e.admin === 'ops-alice'),
    (e) => e !== undefined);
    assert.ok(line, 'an admin_change line names ops-alice');
    const tail = await api('GET', '/admin/v1/audit?limit=1000', { status: 200 });
    assert.ok(tail.json.events.some((e) => e.event === 'admin_change' && e.admin === 'ops-alice'));
  });

  it('the CLI with --server runs the commands through the API, printing what --db prints', async () => {
    const env = { ...process.env, LATCHKEY_ADMIN_TOKEN: token };
    const remote = async (args, opts = {}) => {
      const r = await run(['--server', base, ...args], { env, ...opts });
      assert.equal(r.code, 0, `latchkey --server ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const made = await remote(['user', 'create', '--username', 'remote@localhost', '--password-stdin', '--name', 'Re Mote'],
      { stdin: 'a long enough password\n' });
    assert.match(made.user_id, /^005/);
    assert.ok((await cli(world.db, ['user', 'list'])).users.some((u) => u.username === 'remote@localhost'));
    const app = await remote(['app', 'create', '--name', 'Remote app', '--callback', 'http://127.0.0.1:9/cb']);
    assert.ok(app.client_secret);
    assert.deepEqual(await remote(['app', 'show', '--client-id', app.client_id]),
      await cli(world.db, ['app', 'show', '--client-id', app.client_id]));
    await remote(['app', 'preauthorize', '--client-id', app.client_id, '--profile', 'Standard User']);
    assert.deepEqual(await remote(['app', 'approvals', '--client-id', app.client_id]),
      await cli(world.db, ['app', 'approvals', '--client-id', app.client_id]));
    const removed = await api('DELETE', `/admin/v1/apps/${encodeURIComponent(app.client_id)}/preauthorizations/profile/Standard%20User`, { status: 200 });
    assert.deepEqual(removed.json.preauthorized, []);
    await api('DELETE', `/admin/v1/apps/${encodeURIComponent(app.client_id)}/preauthorizations/profile/Standard%20User`, { status: 404 });
    const updated = await remote(['user', 'update', '--username', 'remote@localhost', '--permission-set', 'API Enabled']);
    assert.deepEqual(updated.permission_sets, ['API Enabled']);
    const listed = await remote(['keys', 'list']);
    assert.deepEqual(new Set(listed.keys.map((k) => k.kid)),
      new Set((await cli(world.db, ['keys', 'list'])).keys.map((k) => k.kid)));

    const refused = await run(['--server', base, 'app', 'list'], { env: { ...env, LATCHKEY_ADMIN_TOKEN: `lka_${'y'.repeat(43)}` } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /admin token is not valid/);
    const missing = await run(['--server', base, 'app', 'show', '--client-id', 'nope'], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such app: nope/);
  });

  it('pages through 25 users with limit=10 in 3 pages, none twice', async () => {
    // A server of its own, with no other user.
    const own = await startWorld({ users: {}, serve: { extraArgs: ['--admin-listen', '127.0.0.1:0'] } });
    try {
      const at = own.server.adminUrl;
      const ownToken = (await cli(own.db, ['admin-token', 'create', '--name', 'pager'])).token;
      const names = [];
      for (let i = 0; i < 25; i++) names.push(`page${String(i).padStart(2, '0')}@paging.test`);
      for (const username of names) {
        await api('POST', '/admin/v1/users', { at, auth: ownToken, status: 201, body: { username, password: 'a long enough password' } });
      }
      const seen = [];
      let cursor = null;
      let pages = 0;
      do {
        const q = new URLSearchParams({ limit: '10', ...(cursor ? { cursor } : {}) });
        const page = await api('GET', `/admin/v1/users?${q}`, { at, auth: ownToken, status: 200 });
        assert.ok(page.json.users.length <= 10);
        seen.push(...page.json.users.map((u) => u.username));
        cursor = page.json.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      assert.equal(pages, 3);
      assert.deepEqual(seen, names, 'every user once, in order');
      await api('GET', '/admin/v1/users?cursor=bogus', { at, auth: ownToken, status: 400 });
    } finally {
      await own.stop();
    }
  });
});
