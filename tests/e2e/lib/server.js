// Test harness: temporary database (lib/database.js: SQLite, or PostgreSQL with
// LATCHKEY_E2E_DB=postgres), admin CLI, and a `latchkey serve` child process.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { newDatabase, dropDatabase, envFor } from './database.js';

export {
  BACKEND, ON_POSTGRES, POSTGRES_AVAILABLE, sqliteOnly, newDatabase, dropDatabase, adoptDatabase, sql,
  databaseCopies,
} from './database.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const BIN = process.env.LATCHKEY_BIN
  ? path.resolve(process.env.LATCHKEY_BIN)
  : path.resolve(here, '../../../build/latchkey');

export const DEFAULT_PASSWORD = 'correct horse Battery 9!';
export const CALLBACK = 'http://127.0.0.1:9/cb';

/**
 * Runs the binary with arguments; resolves {code, stdout, stderr}. Never rejects on exit code.
 * The KEK file of a PostgreSQL database named by `--db` goes along (lib/database.js envFor).
 */
export function run(args, { stdin, timeoutMs = 30000, env } = {}) {
  const i = args.indexOf('--db');
  const childEnv = envFor(i >= 0 ? args[i + 1] : undefined, env ?? process.env);
  return new Promise((resolve, reject) => {
    const child = execFile(BIN, args, { timeout: timeoutMs, maxBuffer: 4 << 20, env: childEnv },
      (err, stdout, stderr) => {
        if (err && typeof err.code === 'string') {
          reject(new Error(err.code === 'ENOENT' ? `latchkey binary not found at ${BIN}` : `cannot run ${BIN}: ${err.message}`));
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : 128) : 0;
        resolve({ code, signal: err?.signal ?? null, stdout, stderr });
      });
    child.stdin.on('error', () => {});
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/** Runs an admin command that must succeed and print exactly one JSON object. */
export async function cli(db, args, opts = {}) {
  const r = await run(['--db', db, ...args], opts);
  if (r.code !== 0) {
    throw new Error(`latchkey ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  const text = r.stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`latchkey ${args.join(' ')} printed non-JSON stdout: ${JSON.stringify(text.slice(0, 500))}`);
  }
}

/**
 * Polls `probe` until `done(result)` holds or `withinMs` passes; resolves the last result.
 * For changes the CLI makes behind a running server's back: the server serves apps, users and
 * tokens from memory for up to --cache-ms (1 s by default) before it reads them again.
 */
export async function eventually(probe, done, { withinMs = 3000, everyMs = 100 } = {}) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const result = await probe();
    if (done(result) || Date.now() >= deadline) return result;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function makeTempDir(prefix = 'latchkey-e2e-') {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function createUser(db, { username, password = DEFAULT_PASSWORD, name, email, extra = [] }) {
  const args = ['user', 'create', '--username', username, '--password-stdin'];
  if (name) args.push('--name', name);
  if (email) args.push('--email', email);
  args.push(...extra);
  const out = await cli(db, args, { stdin: password + '\n' });
  return { ...out, username, password, name, email };
}

/**
 * App options: name, callbacks (array), scopes, pkce, requireSecretWebServer, requireSecretRefresh,
 * refreshPolicy, accessTokenTtl, allowImplicit, extra (raw args).
 */
export async function createApp(db, opts = {}) {
  const args = ['app', 'create', '--name', opts.name ?? 'Test App'];
  const callbacks = opts.callbacks ?? [CALLBACK];
  for (const cb of callbacks) args.push('--callback', cb);
  if (opts.scopes !== undefined) args.push('--scopes', opts.scopes);
  if (opts.pkce) args.push('--pkce', opts.pkce);
  if (opts.requireSecretWebServer !== undefined) args.push('--require-secret-web-server', String(opts.requireSecretWebServer));
  if (opts.requireSecretRefresh !== undefined) args.push('--require-secret-refresh', String(opts.requireSecretRefresh));
  if (opts.refreshPolicy) args.push('--refresh-policy', opts.refreshPolicy);
  if (opts.accessTokenTtl !== undefined) args.push('--access-token-ttl', String(opts.accessTokenTtl));
  if (opts.allowImplicit) args.push('--allow-implicit');
  if (opts.extra) args.push(...opts.extra);
  const out = await cli(db, args);
  return { ...out, callback: callbacks[0], callbacks, scopes: opts.scopes ?? 'api refresh_token', options: opts };
}

/** Asks the OS for a free loopback port (for commands that need the port before `serve` runs). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `latchkey serve`. stdin stays an open pipe (--stop-on-stdin-eof) so that the server dies
 * with the test process. Resolves once the "listening on http://..." line appears (and, with
 * --metrics-listen in extraArgs, the metrics line too: `metricsUrl` is then its /metrics URL). `bin` replaces
 * the binary (harness.test.js checks the harness itself with a stand-in). `launcher` (e.g.
 * ['sh', '-c', 'ulimit ... && exec "$@"', 'sh']) runs the binary through a command that execs
 * it, for process limits node cannot set.
 */
export function startServer(db, { listen = '127.0.0.1:0', extraArgs = [], timeoutMs = 15000, bin = BIN, launcher = [] } = {}) {
  const args = ['--db', db, 'serve', '--listen', listen, '--stop-on-stdin-eof', ...extraArgs];
  const [cmd, ...cmdArgs] = [...launcher, bin, ...args];
  const child = spawn(cmd, cmdArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: envFor(db) });
  let log = '';
  const append = (chunk) => {
    log += chunk.toString('utf8');
    if (log.length > 4 << 20) log = log.slice(-(2 << 20));
  };
  // stderr alone as well: where a sanitizer reports what made the exit status non-zero.
  let errLog = '';
  const appendErr = (chunk) => {
    append(chunk);
    errLog += chunk.toString('utf8');
    if (errLog.length > 1 << 20) errLog = errLog.slice(-(512 << 10));
  };
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not print "listening on" within ${timeoutMs} ms; output:\n${log.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk) => {
      append(chunk);
      const m = /listening on (https?:\/\/[^\s"']+)/.exec(log);
      // With --metrics-listen or --admin-listen, their lines follow the issuer's: wait for all.
      const metrics = /metrics listening on (http:\/\/[^\s"']+)/.exec(log);
      const admin = /admin listening on (http:\/\/[^\s"']+)/.exec(log);
      if (m && (metrics || !args.includes('--metrics-listen')) &&
          (admin || !args.includes('--admin-listen'))) {
        clearTimeout(timer);
        server.metricsUrl = metrics ? metrics[1] : null;
        // The admin API's base URL, without the trailing /admin/v1/.
        server.adminUrl = admin ? admin[1].replace(/\/admin\/v1\/?$/, '') : null;
        resolve(m[1].replace(/\/+$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', appendErr);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start ${BIN}: ${e.message}`)); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}); output:\n${log.slice(-2000)}`));
    });
  });
  child.stdin.on('error', () => {});

  // Why the server did not end cleanly (docs/behaviour.md §7: exit status 0 within a few seconds of
  // SIGTERM), with the tail of its stderr: under `make test-sanitize` a leak or UB found at
  // shutdown shows only there and in the exit status. Null when it did end cleanly.
  const unclean = (r, how) => {
    if (r.code === 0 && !r.killed) return null;
    const what = r.killed ? `did not exit within ${r.ms} ms of SIGTERM and was killed`
      : r.signal ? `died from ${r.signal}` : `exited with status ${r.code}`;
    return new Error(`latchkey serve ${what} ${how}; stderr tail:\n${errLog.slice(-4000) || '(empty)'}`);
  };

  let stopped = null;
  const server = {
    child,
    exited,
    logs: () => log,
    stderr: () => errLog,
    /**
     * SIGTERM, wait up to timeoutMs; SIGKILL after that. Resolves {code, signal, ms, killed}.
     * Rejects when the server does not exit with status 0 by itself in time, or had already
     * ended with a non-zero status or a signal other than the SIGKILL a test sends.
     */
    stop(timeoutMs = 8000) {
      if (stopped) return stopped;
      stopped = (async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          const r = { code: child.exitCode, signal: child.signalCode, ms: 0, killed: false };
          if (r.signal === 'SIGKILL') return r;  // a crash test's kill -9
          const e = unclean(r, 'before it was stopped');
          if (e) throw e;
          return r;
        }
        const t0 = Date.now();
        child.kill('SIGTERM');
        let timer;
        const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
        let r = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        if (r) {
          try { child.stdin.end(); } catch { /* ignore */ }
          r = { ...r, ms: Date.now() - t0, killed: false };
        } else {
          child.kill('SIGKILL');
          r = { ...(await exited), ms: Date.now() - t0, killed: true };
        }
        const e = unclean(r, 'after SIGTERM');
        if (e) throw e;
        return r;
      })();
      return stopped;
    },
  };
  return ready.then((issuer) => {
    server.issuer = issuer;
    return server;
  }, async (e) => {
    try { child.kill('SIGKILL'); } catch { /* ignore */ }
    throw e;
  });
}

/**
 * A complete world: temp dir + database, users, apps, running server. `db` is the --db URL,
 * `dbPath` the SQLite file (null under PostgreSQL), `kekPath` the signing keys' KEK file.
 * spec = { users: { key: {username, name, email, password?} }, apps: { key: {...createApp opts} },
 *          serve: {...startServer opts}, database: { url, kekPath } (an empty database of the
 *          test's own, adopted with lib/database.js adoptDatabase, instead of a new one) }
 * world.startNode(opts) starts another `latchkey serve` on the same database with the same KEK
 * file (a second node, docs/behaviour.md §2), without setting anything up again; world.stop()
 * stops it too.
 */
export async function startWorld(spec = {}) {
  const dir = await makeTempDir();
  const { url: db, path: dbPath = null, kekPath } = spec.database ?? await newDatabase(dir);
  const users = {};
  const apps = {};
  const userSpec = spec.users ?? {
    alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
  };
  // Sequential: the first command creates the schema.
  for (const [key, u] of Object.entries(userSpec)) users[key] = await createUser(db, u);
  for (const [key, a] of Object.entries(spec.apps ?? {})) apps[key] = await createApp(db, { name: key, ...a });
  const server = await startServer(db, spec.serve ?? {});
  const nodes = [];
  const world = {
    dir, db, dbPath, kekPath, users, apps, server,
    issuer: server.issuer,
    logs: () => server.logs(),
    async startNode(opts = {}) {
      const node = await startServer(db, opts);
      nodes.push(node);
      return node;
    },
    async stop() {
      try {
        const stopped = await Promise.allSettled(nodes.map((n) => n.stop()));
        const r = await server.stop();
        for (const s of stopped) if (s.status === 'rejected') throw s.reason;
        return r;
      } finally {
        await dropDatabase(db);
        if (!process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
  return world;
}
