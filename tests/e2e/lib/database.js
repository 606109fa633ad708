// The database each test's server runs on: a SQLite file in the test's temp dir, or, with
// LATCHKEY_E2E_DB=postgres (`make e2e-postgres`), a fresh empty database of its own on the
// PostgreSQL server LATCHKEY_TEST_POSTGRES_URL names (scripts/with-pg-cluster.sh starts one and
// exports it), so that every flow runs against both backends (docs/behaviour.md §2).
//
// A PostgreSQL database has no file beside which the key-encryption key could live, so it gets
// a KEK file in the test's temp dir (docs/operations.md "Signing keys at rest"); run() and
// startServer() of lib/server.js hand it over as LATCHKEY_KEK_FILE unless the test names a KEK
// itself (--key-encryption-key-file, or LATCHKEY_KEK_FILE in its environment).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const wanted = process.env.LATCHKEY_E2E_DB || 'sqlite';
if (wanted !== 'sqlite' && wanted !== 'postgres') {
  throw new Error(`LATCHKEY_E2E_DB must be sqlite or postgres, not ${JSON.stringify(wanted)}`);
}

/** 'sqlite' or 'postgres': the backend this run's servers use. */
export const BACKEND = wanted;
export const ON_POSTGRES = BACKEND === 'postgres';

/**
 * The `skip` option of a test about the SQLite file itself (its bytes, modes, WAL, schema
 * versions): the reason under PostgreSQL, false under SQLite.
 */
export function sqliteOnly(reason) {
  return ON_POSTGRES ? `about the SQLite file (${reason}); LATCHKEY_E2E_DB=postgres` : false;
}

// The clients of the PostgreSQL the cluster runs (scripts/pg-cluster.sh reads PG_BIN too).
const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const PSQL = path.join(PG_BIN, 'psql');
const PG_DUMP = path.join(PG_BIN, 'pg_dump');

function serverUrl() {
  const url = process.env.LATCHKEY_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error('LATCHKEY_E2E_DB=postgres needs LATCHKEY_TEST_POSTGRES_URL, the URL of a PostgreSQL server '
      + 'whose user may create databases (make e2e-postgres, or scripts/with-pg-cluster.sh, sets it)');
  }
  return url;
}

/** `url` with its database name replaced by `name` (query parameters such as ?host= kept). */
function withDatabase(url, name) {
  const m = /^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(url);
  if (!m) throw new Error(`not a postgresql:// URL: ${url}`);
  return `${m[1]}/${name}${m[3] ?? ''}`;
}

// Databases this process created and has not dropped yet: URL → { name, kekPath }.
const created = new Map();
let seq = 0;

async function psql(url, statement) {
  const { stdout } = await exec(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', statement],
    { timeout: 30000, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * A fresh empty database for a test whose temp dir is `dir`: { url, path, kekPath }. `url` is
 * what --db takes; `path` the SQLite file (null under PostgreSQL); `kekPath` the file the
 * signing keys' KEK is in (created by the first command that makes a key). Under PostgreSQL the
 * database is named after this process and a counter, so parallel test files never share one.
 * `backend` picks one other than this run's (a test of `latchkey migrate` needs both);
 * `kekPath` names the KEK file a PostgreSQL database's commands get (default DIR/lk.kek).
 */
export async function newDatabase(dir, { backend = BACKEND, kekPath } = {}) {
  if (backend === 'sqlite') {
    const file = path.join(dir, 'lk.db');
    return { url: `sqlite:${file}`, path: file, kekPath: `${file}.kek` };
  }
  const name = `lk_e2e_${process.pid}_${++seq}_${randomBytes(3).toString('hex')}`;
  const server = serverUrl();
  await psql(server, `CREATE DATABASE ${name}`);
  const url = withDatabase(server, name);
  const kek = kekPath ?? path.join(dir, 'lk.kek');
  created.set(url, { name, kekPath: kek });
  return { url, path: null, kekPath: kek };
}

/**
 * Makes the commands and servers of lib/server.js hand `kekPath` over as LATCHKEY_KEK_FILE for
 * `url`, a PostgreSQL database this process did not make with newDatabase (a test's own
 * throw-away cluster, which the test removes itself): dropDatabase leaves it alone.
 */
export function adoptDatabase(url, kekPath) {
  created.set(url, { name: null, kekPath });
}

/** Whether a PostgreSQL server is at hand for newDatabase(dir, { backend: 'postgres' }). */
export const POSTGRES_AVAILABLE = Boolean(process.env.LATCHKEY_TEST_POSTGRES_URL);

/** Drops a database newDatabase made (nothing for SQLite: the temp dir goes with the test). */
export async function dropDatabase(url) {
  const entry = created.get(url);
  if (!entry) return;
  created.delete(url);
  if (process.env.E2E_KEEP_TMP || entry.name === null) return;
  // FORCE: a CLI process a failed test left behind must not keep the database alive.
  await psql(serverUrl(), `DROP DATABASE IF EXISTS ${entry.name} WITH (FORCE)`);
}

// What a test that failed before its cleanup left behind goes when the test process ends.
process.once('exit', () => {
  if (process.env.E2E_KEEP_TMP) return;
  for (const { name } of created.values()) {
    if (name === null) continue;  // adoptDatabase: not ours to drop
    try {
      execFileSync(PSQL, ['-X', '-q', '-d', serverUrl(), '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`],
        { stdio: 'ignore', timeout: 10000 });
    } catch { /* the cluster is thrown away after the run anyway */ }
  }
});

/**
 * The environment for a latchkey process on `url`: `env` with LATCHKEY_KEK_FILE set to the
 * database's KEK file when newDatabase made it on PostgreSQL and `env` names none.
 */
export function envFor(url, env = process.env) {
  const entry = url ? created.get(url) : undefined;
  if (!entry || env.LATCHKEY_KEK_FILE) return env;
  return { ...env, LATCHKEY_KEK_FILE: entry.kekPath };
}

/**
 * Runs SQL on the database `url` (sqlite:PATH through sqlite3, postgresql://… through psql);
 * resolves the output lines, columns separated by '|' (the two clients' default). Booleans
 * print as 1/0 under SQLite and t/f under PostgreSQL.
 */
export async function sql(url, statement) {
  let stdout;
  if (url.startsWith('sqlite:')) {
    // A running server may hold the write lock for a moment: wait for it rather than fail.
    ({ stdout } = await exec('sqlite3', ['-cmd', '.timeout 5000', url.slice(7), statement],
      { timeout: 30000, maxBuffer: 16 << 20 }));
  } else {
    stdout = await psql(url, statement);
  }
  return stdout.split('\n').filter(Boolean);
}

/**
 * What a copy of the database holds, as byte buffers { name, bytes }: the SQLite file and its
 * -wal and -shm files as they are on disk, or a pg_dump of the PostgreSQL database (every
 * table's rows as text).
 */
export async function databaseCopies(url) {
  if (url.startsWith('sqlite:')) {
    const file = url.slice(7);
    const dir = path.dirname(file);
    const base = path.basename(file);
    const names = (await readdir(dir)).filter((n) => n.startsWith(base) && !n.endsWith('.kek'));
    const out = [];
    for (const n of names) out.push({ name: n, bytes: await readFile(path.join(dir, n)) });
    return out;
  }
  const { stdout } = await exec(PG_DUMP, ['--no-owner', '-d', url],
    { encoding: 'buffer', timeout: 30000, maxBuffer: 64 << 20 });
  return [{ name: 'pg_dump', bytes: stdout }];
}
