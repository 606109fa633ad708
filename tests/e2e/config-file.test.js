// docs/configuration.md "The configuration file": `serve --config PATH` takes every setting from
// a TOML file, the LATCHKEY_* environment overrides it and the flags override both; a bad key or
// value stops start-up naming the file, the line and the key; `config check` validates without
// starting; the settings table of the docs is what `config docs` prints.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BIN, run, makeTempDir, freePort, newDatabase, dropDatabase,
} from './lib/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// The process environment without any LATCHKEY_* setting, plus `extra`.
function envWith(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v;
  return { ...env, ...extra };
}

// Starts `latchkey serve` with exactly `args` (no --listen of the harness's: the file gives it);
// resolves { child, issuer, exited } once it listens.
function serve(args, env) {
  const child = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 15 s:\n${out}`)), 15000);
    child.stdout.on('data', () => {
      const m = /latchkey listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, issuer: m[1], exited, output: () => out });
      }
    });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

async function stop(server) {
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.output());
}

describe('serve --config', { timeout: 60000 }, () => {
  let dir;
  let database;
  let port;
  let file;

  before(async () => {
    dir = await makeTempDir();
    database = await newDatabase(dir);
    port = await freePort();
    file = path.join(dir, 'latchkey.toml');
    await writeFile(file, [
      '# the whole configuration of one node',
      `db = ${JSON.stringify(database.url)}`,
      `key_encryption_key_file = ${JSON.stringify(database.kekPath)}`,
      `listen = "127.0.0.1:${port}"`,
      `issuer = "http://127.0.0.1:${port}/from-file"`,
      'quiet = true',
      'stop_on_stdin_eof = true',
      '',
    ].join('\n'));
  });

  after(async () => {
    await dropDatabase(database.url);
    if (!process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });

  // The issuer discovery names, the one serve printed, and serve's output once it stopped (the
  // access log is written after the response).
  async function discoveredIssuer(env, flags = []) {
    const s = await serve(['serve', '--config', file, ...flags], env);
    let issuer;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      issuer = (await res.json()).issuer;
    } finally {
      await stop(s);
    }
    return { issuer, printed: s.issuer, output: s.output() };
  }

  it('the file gives the database, the KEK, the listener and the issuer; the environment overrides it, the flags both', async () => {
    const fromFile = await discoveredIssuer(envWith());
    assert.equal(fromFile.issuer, `http://127.0.0.1:${port}/from-file`);
    assert.equal(fromFile.printed, `http://127.0.0.1:${port}/from-file`);
    assert.doesNotMatch(fromFile.output, /method=GET/, 'quiet = true: no access log');

    const env = envWith({ LATCHKEY_ISSUER: `http://127.0.0.1:${port}/from-env`, LATCHKEY_QUIET: 'false' });
    const fromEnv = await discoveredIssuer(env);
    assert.equal(fromEnv.issuer, `http://127.0.0.1:${port}/from-env`);
    assert.match(fromEnv.output, /method=GET path=\/\.well-known\/openid-configuration status=200/);

    const fromFlag = await discoveredIssuer(env, ['--issuer', `http://127.0.0.1:${port}/from-flag`]);
    assert.equal(fromFlag.issuer, `http://127.0.0.1:${port}/from-flag`);
  });

  it('an unknown key stops start-up with the file, the line and the key', async () => {
    const bad = path.join(dir, 'unknown.toml');
    await writeFile(bad, `listen = "127.0.0.1:0"\n\nmax_conections = 100\n`);
    const r = await run(['--db', database.url, 'serve', '--config', bad], { env: envWith() });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim(),
      `latchkey: ${bad}:3:1: max_conections is not a setting of latchkey serve (docs/configuration.md)`);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  it('a value of the wrong type or out of range stops start-up with the file and the line', async () => {
    const bad = path.join(dir, 'value.toml');
    await writeFile(bad, `listen = "127.0.0.1:0"\ncache_ms = 1000\nhandler_threads = 0\n`);
    const r = await run(['--db', database.url, 'serve', '--config', bad], { env: envWith() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3:1: handler_threads must be between 1 and 4096, got 0`));

    const typed = path.join(dir, 'typed.toml');
    await writeFile(typed, `listen = 8080\n`);
    const t = await run(['--db', database.url, 'serve', '--config', typed], { env: envWith() });
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stderr, /typed\.toml:1:1: listen must be a string/);
  });

  it('config check validates without starting: exit 0 and one line, or exit 2 and the error', async () => {
    const ok = await run(['config', 'check', '--config', file], { env: envWith() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${file}: valid; serve would listen on 127.0.0.1:${port} with the database ${database.url}\n`);
    // Nothing listens: check starts no server.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));

    const bad = path.join(dir, 'proxy.toml');
    await writeFile(bad, `listen = "127.0.0.1:0"\ntrusted_proxies = ["10.0.0.0/8", "proxy.internal"]\n`);
    const r = await run(['config', 'check', '--config', bad], { env: envWith() });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /proxy\.toml:2:\d+: trusted_proxies must be an IP address or CIDR block, got 'proxy\.internal'/);

    // The environment counts too: it is what serve would run with.
    const env = await run(['config', 'check', '--config', file], { env: envWith({ LATCHKEY_WORKERS: 'four' }) });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /LATCHKEY_WORKERS must be an integer, got 'four'/);
  });

  it('the settings table of docs/configuration.md is what `latchkey config docs` prints', async () => {
    const r = await run(['config', 'docs']);
    assert.equal(r.code, 0, r.stderr);
    const docs = await readFile(path.resolve(here, '../../docs/configuration.md'), 'utf8');
    const m = /<!-- settings table: generated by `latchkey config docs` -->\n([\s\S]*?)<!-- end of the settings table -->/.exec(docs);
    assert.ok(m, 'docs/configuration.md has the generated settings table between its markers');
    assert.equal(m[1], r.stdout, 'docs/configuration.md is stale: paste in `build/latchkey config docs`');
  });
});
