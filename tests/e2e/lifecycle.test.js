// docs/behaviour.md §1–§3, §7: the admin CLI, `serve` start/stop (SIGTERM → exit 0, stdin EOF),
// --issuer, and the store's durability across kill -9.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import {
  makeTempDir, newDatabase, dropDatabase, createUser, createApp, startServer, run, cli, freePort, eventually,
} from './lib/server.js';
import {
  codeFlow, getCode, exchangeCode, userinfo, refresh, assertTokenSuccess, assertTokenError, assertInvalidSession,
  httpGet, show,
} from './lib/oauth.js';

async function freshDb() {
  const dir = await makeTempDir();
  const { url: db } = await newDatabase(dir);
  return {
    dir, db,
    cleanup: async () => {
      await dropDatabase(db);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function seed(db) {
  const alice = await createUser(db, { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' });
  const app = await createApp(db, { name: 'Lifecycle', scopes: 'api refresh_token openid', refreshPolicy: 'until-revoked' });
  return { alice, app };
}

/** A fresh seeded database and a server on it for `fn({ db, server, world })`; both gone after. */
async function withSeededServer(fn) {
  const { db, cleanup } = await freshDb();
  const { alice, app } = await seed(db);
  const server = await startServer(db);
  try {
    await fn({ db, server, world: { issuer: server.issuer, users: { alice }, apps: { app } } });
  } finally {
    await server.stop();
    await cleanup();
  }
}

describe('serve lifecycle and CLI', { concurrency: true, timeout: 60000 }, () => {
  it('serve exits with status 0 within 5 s of SIGTERM after serving requests', () => withSeededServer(async ({ server, world }) => {
    await codeFlow(world, { app: world.apps.app });
    const r = await server.stop(5000);
    assert.equal(r.killed, false, `server ignored SIGTERM for 5 s; output:\n${server.logs().slice(-1000)}`);
    assert.equal(r.signal, null, `server died from signal ${r.signal}`);
    assert.equal(r.code, 0, `exit status ${r.code}; output:\n${server.logs().slice(-1000)}`);
    assert.ok(r.ms < 5000);
  }));

  it('serve exits with status 0 on SIGINT (Ctrl-C) too', () => withSeededServer(async ({ server, world }) => {
    await codeFlow(world, { app: world.apps.app });
    server.child.kill('SIGINT');
    const r = await Promise.race([server.exited, new Promise((res) => setTimeout(() => res(null), 5000))]);
    assert.ok(r, 'server still running 5 s after SIGINT');
    assert.equal(r.signal, null, `server died from signal ${r.signal}`);
    assert.equal(r.code, 0, `exit status ${r.code}`);
  }));

  it('serve --stop-on-stdin-eof exits when its stdin closes', async () => {
    const { db, cleanup } = await freshDb();
    await seed(db);
    const server = await startServer(db);
    try {
      server.child.stdin.end();
      const r = await Promise.race([server.exited, new Promise((res) => setTimeout(() => res(null), 5000))]);
      assert.ok(r, 'server still running 5 s after stdin EOF');
      assert.equal(r.code, 0, `exit status ${r.code} signal ${r.signal}`);
    } finally {
      await server.stop();
      await cleanup();
    }
  });

  it('tokens survive kill -9 of the server (durable store)', async () => {
    const { db, cleanup } = await freshDb();
    const { alice, app } = await seed(db);
    let server = await startServer(db);
    try {
      const world = { issuer: server.issuer, users: { alice }, apps: { app } };
      const { tokens } = await codeFlow(world, { app });
      server.child.kill('SIGKILL');
      await server.exited;
      server = await startServer(db);
      const world2 = { issuer: server.issuer };
      const ui = await userinfo(world2, tokens.access_token);
      assert.equal(ui.status, 200, `access token lost after kill -9: ${show(ui)}`);
      assertTokenSuccess(await refresh(world2, app, tokens.refresh_token));
    } finally {
      await server.stop();
      await cleanup();
    }
  });

  it('--issuer sets the issuer in discovery and in the token response', async () => {
    const { db, cleanup } = await freshDb();
    const { alice, app } = await seed(db);
    const issuer = 'http://login.example.test';
    const port = await freePort();
    const server = await startServer(db, { listen: `127.0.0.1:${port}`, extraArgs: ['--issuer', issuer] });
    try {
      const base = `http://127.0.0.1:${port}`;
      const d = await httpGet(`${base}/.well-known/openid-configuration`);
      assert.equal(d.status, 200, show(d));
      assert.equal(d.json.issuer, issuer);
      assert.equal(d.json.token_endpoint, `${issuer}/services/oauth2/token`);
      const world = { issuer: base, users: { alice }, apps: { app } };
      const { tokens } = await codeFlow(world, { app });
      assert.equal(tokens.instance_url, issuer);
      assert.equal(tokens.id, `${issuer}/id/${alice.org_id}/${alice.user_id}`);
    } finally {
      await server.stop();
      await cleanup();
    }
  });

  it('user create prints {user_id:"005…", username, org_id:"00D…"}; one org per database; --password works too', async () => {
    const { db, cleanup } = await freshDb();
    try {
      const a = await createUser(db, { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' });
      assert.match(a.user_id, /^005/);
      assert.match(a.org_id, /^00D/);
      assert.equal(a.username, 'alice@localhost');
      const b = await cli(db, ['user', 'create', '--username', 'bob@localhost', '--password', 'pw-Bob-123']);
      assert.equal(b.org_id, a.org_id);
      assert.notEqual(b.user_id, a.user_id);
      assert.equal(b.username, 'bob@localhost');
      const app = await createApp(db, { name: 'CLI app' });
      assert.ok(typeof app.client_id === 'string' && app.client_id.length >= 20);
      assert.ok(typeof app.client_secret === 'string' && app.client_secret.length >= 16);
      const server = await startServer(db);
      try {
        const world = { issuer: server.issuer, users: { bob: { ...b, password: 'pw-Bob-123' } }, apps: { app } };
        const { tokens } = await codeFlow(world, { app, user: world.users.bob });
        assert.equal(tokens.id, `${server.issuer}/id/${b.org_id}/${b.user_id}`);
      } finally {
        await server.stop();
      }
    } finally {
      await cleanup();
    }
  });

  it('admin command errors exit non-zero with a message on stderr', async () => {
    const { db, cleanup } = await freshDb();
    try {
      await createUser(db, { username: 'alice@localhost' });
      const dup = await run(['--db', db, 'user', 'create', '--username', 'alice@localhost', '--password-stdin'], { stdin: 'x-Password-1\n' });
      assert.notEqual(dup.code, 0, 'a duplicate username must fail');
      assert.ok(dup.stderr.trim().length > 0, 'a message on stderr');
      const bad = await run(['--db', db, 'user', 'create', '--username', 'not-an-email', '--password-stdin'], { stdin: 'x-Password-1\n' });
      assert.notEqual(bad.code, 0, 'a username that is not email-shaped must fail');
      assert.ok(bad.stderr.trim().length > 0);
      const unknown = await run(['--db', db, 'no-such-command']);
      assert.notEqual(unknown.code, 0);
      assert.ok(unknown.stderr.trim().length > 0);
      const badPolicy = await run(['--db', db, 'app', 'create', '--name', 'x', '--callback', 'http://127.0.0.1:9/cb', '--refresh-policy', 'sometimes']);
      assert.notEqual(badPolicy.code, 0, 'an unknown refresh policy must fail');
    } finally {
      await cleanup();
    }
  });

  it('app create refuses javascript:, data: and other callbacks a browser would act on itself (exit 1, says what is allowed); loopback http, https and com.example.app:/cb are accepted', async () => {
    const { db, cleanup } = await freshDb();
    try {
      for (const cb of ['javascript:alert(document.domain)', 'data:text/html,<script>alert(1)</script>',
        'vbscript:msgbox(1)', 'file:///etc/passwd', 'blob:https://a.example/x', 'about:blank',
        'http://app.example/cb', 'myapp://cb']) {
        const r = await run(['--db', db, 'app', 'create', '--name', 'x', '--callback', cb]);
        assert.equal(r.code, 1, `${cb} must be refused`);
        assert.match(r.stderr, /not a valid callback URL/, cb);
        assert.match(r.stderr, /https:\/\//, `${cb}: the message says what is allowed`);
        assert.equal(r.stdout, '', `${cb}: no client id printed`);
      }
      const apps = await cli(db, ['app', 'list']);
      assert.deepEqual(apps.apps, [], 'nothing was registered');
      const ok = await createApp(db, { callbacks: ['http://localhost:1717/OauthRedirect', 'https://app.example/cb',
        'http://[::1]:8080/cb', 'com.example.app:/cb'] });
      assert.match(ok.client_id, /^3MVG9/);
    } finally {
      await cleanup();
    }
  });

  it('profiles and permission sets are created by name; app preauthorize prints JSON; app/user list never show secrets', async () => {
    const { db, cleanup } = await freshDb();
    try {
      const i = await createUser(db, { username: 'integ@localhost', name: 'Integ User', extra: ['--profile', 'Integration User'] });
      const p = await createUser(db, { username: 'perm@localhost', name: 'Perm User', extra: ['--permission-set', 'API Access'] });
      const plain = await createUser(db, { username: 'plain@localhost', name: 'Plain User' });
      const app = await createApp(db, { name: 'Approved', scopes: 'api refresh_token', extra: ['--permitted-users', 'admin-approved'] });
      const pre1 = await cli(db, ['app', 'preauthorize', '--client-id', app.client_id, '--profile', 'Integration User']);
      assert.equal(typeof pre1, 'object');
      const pre2 = await cli(db, ['app', 'preauthorize', '--client-id', app.client_id, '--permission-set', 'API Access']);
      assert.equal(typeof pre2, 'object');
      const bad = await run(['--db', db, 'app', 'preauthorize', '--client-id', '3MVG9nosuchapp', '--profile', 'Integration User']);
      assert.notEqual(bad.code, 0, 'preauthorize for an unknown app must fail');
      const apps = await cli(db, ['app', 'list']);
      assert.deepEqual(apps.apps.map((a) => a.client_id), [app.client_id]);
      const users = await cli(db, ['user', 'list']);
      assert.deepEqual(users.users.map((u) => u.username).sort(),
        ['integ@localhost', 'perm@localhost', 'plain@localhost']);
      assert.equal(users.users.find((u) => u.username === 'integ@localhost').profile, 'Integration User');
      for (const listing of [['app', 'list'], ['user', 'list']]) {
        const r = await run(['--db', db, ...listing]);
        assert.ok(!r.stdout.includes(app.client_secret), `${listing.join(' ')} shows the client secret`);
        assert.ok(!r.stdout.includes(i.password), `${listing.join(' ')} shows a password`);
        assert.ok(!r.stdout.includes('$argon2'), `${listing.join(' ')} shows a password hash`);
      }
      const server = await startServer(db);
      try {
        const world = { issuer: server.issuer, users: { i, p, plain }, apps: { app } };
        await codeFlow(world, { app, user: i });
        await codeFlow(world, { app, user: p });
        const got = await getCode(world, { app, user: plain, expectCode: false });
        assert.equal(got.result.params.get('code'), null,
          `a user who is not pre-authorized got a code from an admin-approved app: ${got.result.location}`);
        assert.ok(got.result.location ? got.result.params.get('error') : got.result.status >= 400,
          `expected an error redirect or an error page: ${got.result.location ?? got.result.status}`);
      } finally {
        await server.stop();
      }
    } finally {
      await cleanup();
    }
  });

  it('app rotate-secret: the new secret works at once for the running server, the old one never again', () => withSeededServer(async ({ db, world }) => {
    const { app } = world.apps;
    await codeFlow(world, { app });
    const rotated = await cli(db, ['app', 'rotate-secret', '--client-id', app.client_id]);
    assert.equal(rotated.client_id, app.client_id);
    assert.match(rotated.client_secret, /^[A-Za-z0-9]{32,}$/);
    assert.notEqual(rotated.client_secret, app.client_secret);
    const withOld = { ...app };
    const withNew = { ...app, client_secret: rotated.client_secret };
    // The server reads apps through its cache (--cache-ms): the old secret stops within it.
    const old = await eventually(async () => {
      const got = await getCode(world, { app: withOld });
      return exchangeCode(world, withOld, got);
    }, (r) => r.status !== 200);
    assertTokenError(old, 'invalid_client', { status: 400 });
    const fresh = await codeFlow(world, { app: withNew });
    assert.ok(fresh.tokens.access_token);
    const unknown = await run(['--db', db, 'app', 'rotate-secret', '--client-id', '3MVG9nosuchapp']);
    assert.notEqual(unknown.code, 0, 'rotate-secret for an unknown app must fail');
  }));

  it('token revoke --user: every token of that user stops working, other users keep theirs', async () => {
    const { db, cleanup } = await freshDb();
    const { alice, app } = await seed(db);
    const bob = await createUser(db, { username: 'bob@localhost', name: 'Bob Jones' });
    const server = await startServer(db);
    try {
      const world = { issuer: server.issuer, users: { alice, bob }, apps: { app } };
      const a1 = (await codeFlow(world, { app, user: alice })).tokens;
      const a2 = (await codeFlow(world, { app, user: alice })).tokens;
      const b1 = (await codeFlow(world, { app, user: bob })).tokens;
      const out = await cli(db, ['token', 'revoke', '--user', 'alice@localhost']);
      assert.equal(out.user_id, a1.id.split('/').pop());
      assert.equal(out.revoked, 4, 'two access and two refresh tokens of alice');
      for (const t of [a1, a2]) {
        const r = await eventually(() => userinfo(world, t.access_token), (x) => x.status === 401);
        assertInvalidSession(r, 'revoked access token');
        assertTokenError(await refresh(world, app, t.refresh_token), 'invalid_grant');
      }
      assert.equal((await userinfo(world, b1.access_token)).status, 200, "bob's token was revoked too");
      assertTokenSuccess(await refresh(world, app, b1.refresh_token));
      const unknown = await run(['--db', db, 'token', 'revoke', '--user', 'nobody@localhost']);
      assert.notEqual(unknown.code, 0, 'token revoke for an unknown user must fail');
    } finally {
      await server.stop();
      await cleanup();
    }
  });
});
