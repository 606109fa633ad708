// The Debian package (`make deb`, packaging/build-deb.sh; README "Running in production"): built
// from the binary under test, its control fields and files are checked with dpkg-deb, its systemd
// unit with systemd-analyze where that is installed, its man page against `latchkey --help`, its
// maintainer scripts with stand-ins for the commands they run; then it is extracted into a clean
// temporary root (never installed on this machine) and the extracted binary is started with the
// unit's command line and the packaged configuration, listen and db overridden by LATCHKEY_*
// variables, serves a client-credentials request from openid-client and stops on SIGTERM with
// exit status 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import * as client from 'openid-client';
import {
  BIN, ON_POSTGRES, makeTempDir, freePort, newDatabase, dropDatabase,
} from './lib/server.js';

const exec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const top = path.resolve(here, '../..');
const BUILD_DEB = path.join(top, 'packaging', 'build-deb.sh');

/** Runs a command; resolves { code, stdout, stderr } whatever its exit status. */
async function sh(cmd, args, opts = {}) {
  try {
    const { stdout, stderr } = await exec(cmd, args, { maxBuffer: 16 << 20, timeout: 120000, ...opts });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** `cmd args`, which must succeed; resolves its stdout. */
async function ok(cmd, args, opts) {
  const r = await sh(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function hasCommand(name) {
  return (await sh('sh', ['-c', `command -v ${name}`])).code === 0;
}

/** The environment without any LATCHKEY_* variable, plus `extra`. */
function envWith(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v;
  return { ...env, ...extra };
}

/** The [Service] and other keys of a systemd unit: key → list of values, in order. */
function unitKeys(text) {
  const keys = new Map();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!m) continue;
    if (!keys.has(m[1])) keys.set(m[1], []);
    keys.get(m[1]).push(m[2]);
  }
  return keys;
}

/** The names under "Subcommands:" in a CLI11 --help text. */
function subcommands(help) {
  const section = /\nSubcommands:\n([\s\S]*)$/.exec(help);
  if (!section) return [];
  return section[1].split('\n').map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter(Boolean);
}

// Building the package takes seconds from the Release binary, but over a minute from the
// sanitizer build's (dpkg-shlibdeps reads its 170 MB): hence the long timeout.
describe('the Debian package', { timeout: 600000 }, () => {
  let dir;
  let deb;
  let root;
  let version;

  before(async () => {
    dir = await makeTempDir('latchkey-e2e-deb-');
    const out = await ok(BUILD_DEB, [BIN, path.join(dir, 'out')], { timeout: 540000 });
    deb = out.trim().split('\n').pop();
    root = path.join(dir, 'root');
    await mkdir(root);
    await ok('dpkg-deb', ['-x', deb, root]);
    version = (await ok(BIN, ['--version'])).trim().split(' ')[1];
  });
  after(async () => {
    if (dir && !process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });

  it('is named and versioned after the binary and CMakeLists.txt, with Depends from its libraries', async () => {
    const cmake = await readFile(path.join(top, 'CMakeLists.txt'), 'utf8');
    const projectVersion = /project\(latchkey VERSION (\S+)/.exec(cmake)?.[1];
    assert.equal(version, projectVersion, '`latchkey --version` prints the project version');
    const arch = (await ok('dpkg', ['--print-architecture'])).trim();
    assert.equal(path.basename(deb), `latchkey_${version}_${arch}.deb`);

    const fields = await ok('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Maintainer', 'Depends']);
    const f = Object.fromEntries(fields.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
    assert.equal(f.Package, 'latchkey');
    assert.equal(f.Version, version);
    assert.equal(f.Architecture, arch);
    assert.ok(f.Maintainer, 'a Maintainer field');
    const depends = f.Depends.split(', ').map((d) => d.split(' ')[0]);
    for (const lib of ['libc6', 'libssl3', 'libsqlite3-0', 'libpq5', 'libxmlsec1-openssl', 'libargon2-1', 'adduser']) {
      assert.ok(depends.includes(lib), `Depends names ${lib}: ${f.Depends}`);
    }

    const info = await ok('dpkg-deb', ['-I', deb, 'conffiles']);
    assert.equal(info, '/etc/latchkey/latchkey.toml\n');
  });

  it('holds the stripped binary, the unit, the configuration, the man page and the docs, owned by root', async () => {
    const listing = await ok('dpkg-deb', ['-c', deb]);
    const entries = new Map();
    for (const line of listing.trim().split('\n')) {
      const [mode, owner, , , , ...name] = line.split(/\s+/);
      entries.set(name.join(' ').replace(/^\.\//, '/'), { mode, owner });
    }
    const expected = {
      '/usr/bin/latchkey': '-rwxr-xr-x',
      '/lib/systemd/system/latchkey.service': '-rw-r--r--',
      '/etc/latchkey/latchkey.toml': '-rw-r--r--',
      '/usr/share/man/man1/latchkey.1.gz': '-rw-r--r--',
      '/usr/share/doc/latchkey/copyright': '-rw-r--r--',
      '/usr/share/doc/latchkey/README.md': '-rw-r--r--',
      '/usr/share/doc/latchkey/configuration.md': '-rw-r--r--',
      '/usr/share/doc/latchkey/operations.md': '-rw-r--r--',
    };
    for (const [file, mode] of Object.entries(expected)) {
      assert.ok(entries.has(file), `${file} in the package:\n${listing}`);
      assert.equal(entries.get(file).mode, mode, file);
    }
    for (const [file, { owner }] of entries) assert.equal(owner, 'root/root', file);

    const sections = await ok('readelf', ['-S', '-W', path.join(root, 'usr/bin/latchkey')]);
    assert.ok(!/\.symtab/.test(sections), 'the packaged binary is stripped (it has a .symtab section)');
    assert.equal((await ok(path.join(root, 'usr/bin/latchkey'), ['--version'])).trim(), `latchkey ${version}`);
    // The configuration is `config example` of the packaged binary.
    assert.equal(await readFile(path.join(root, 'etc/latchkey/latchkey.toml'), 'utf8'),
      await ok(BIN, ['config', 'example']));
  });

  it('has a hardened unit that stops within its timeout, which systemd-analyze accepts', async (t) => {
    const text = await readFile(path.join(root, 'lib/systemd/system/latchkey.service'), 'utf8');
    const keys = unitKeys(text);
    const one = (k) => { assert.equal(keys.get(k)?.length, 1, `${k}= once in the unit`); return keys.get(k)[0]; };
    assert.equal(one('ExecStart'), '/usr/bin/latchkey serve --config /etc/latchkey/latchkey.toml');
    assert.match(one('ExecReload'), /kill -HUP \$MAINPID$/);
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('User'), 'latchkey');
    assert.equal(one('StateDirectory'), 'latchkey');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('ProtectHome'), 'yes');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('LimitNOFILE'), '65536');
    assert.equal(one('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6');
    assert.equal(one('CapabilityBoundingSet'), '');
    // The stop timeout is above the drain the packaged configuration allows by default.
    const config = await readFile(path.join(root, 'etc/latchkey/latchkey.toml'), 'utf8');
    const delay = Number(/^#drain_delay_ms = (\d+)$/m.exec(config)[1]);
    const drain = Number(/^#drain_timeout_ms = (\d+)$/m.exec(config)[1]);
    assert.ok(Number(one('TimeoutStopSec')) * 1000 > delay + drain,
      `TimeoutStopSec=${one('TimeoutStopSec')} above drain_delay_ms ${delay} + drain_timeout_ms ${drain}`);

    if (!(await hasCommand('systemd-analyze'))) {
      t.skip('systemd-analyze is not installed: the unit file is not verified by systemd');
      return;
    }
    // Verified as installed, but with the extracted binary (systemd-analyze checks that
    // ExecStart is executable) and the extracted man page (Documentation=man:latchkey(1)).
    const unitDir = path.join(dir, 'unit');
    await mkdir(unitDir, { recursive: true });
    const unit = path.join(unitDir, 'latchkey.service');
    await writeFile(unit, text.replaceAll('/usr/bin/latchkey', path.join(root, 'usr/bin/latchkey')));
    const env = { ...process.env, MANPATH: path.join(root, 'usr/share/man') };
    const verify = await sh('systemd-analyze', ['verify', unit], { env });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr, '', 'systemd-analyze verify has no warning');
    const security = await sh('systemd-analyze', ['security', '--offline=yes', unit], { env });
    const exposure = /Overall exposure level for latchkey\.service: ([\d.]+)/.exec(security.stdout);
    assert.ok(exposure, security.stdout + security.stderr);
    assert.ok(Number(exposure[1]) <= 2, `exposure ${exposure[1]} (systemd-analyze security)`);
  });

  it('has a man page naming every command and subcommand of latchkey --help', async () => {
    const man = gunzipSync(await readFile(path.join(root, 'usr/share/man/man1/latchkey.1.gz'))).toString('utf8');
    const commands = subcommands(await ok(BIN, ['--help']));
    assert.ok(commands.includes('serve') && commands.includes('app'), commands.join(' '));
    for (const command of commands) {
      assert.match(man, new RegExp(`^\\.SS ${command}$`, 'm'), `a section for ${command}`);
      for (const sub of subcommands(await ok(BIN, [command, '--help']))) {
        const roff = `\\fB${command} ${sub}\\fR`.replaceAll('-', '\\-');
        assert.ok(man.includes(roff), `an entry for ${command} ${sub} (${roff})`);
      }
    }
    if (await hasCommand('groff')) {
      const page = path.join(dir, 'latchkey.1');
      await writeFile(page, man);
      const lint = await sh('groff', ['-man', '-ww', '-z', page]);
      assert.equal(lint.stderr, '', 'groff has no warning about the man page');
    }
  });

  it('its maintainer scripts add the latchkey user and protect the configuration once, and undo the override on purge', async () => {
    // Stand-ins for the commands the scripts run, each appending its name and arguments to a
    // log; getent and dpkg-statoverride --list answer as the state file says.
    const bin = path.join(dir, 'fake-bin');
    const log = path.join(dir, 'calls.log');
    const state = path.join(dir, 'state');
    await mkdir(bin, { recursive: true });
    const fake = (body) => `#!/bin/sh\necho "$(basename "$0") $*" >>${JSON.stringify(log)}\n${body}\n`;
    await writeFile(path.join(bin, 'getent'), fake(`grep -qx user ${JSON.stringify(state)}`));
    await writeFile(path.join(bin, 'adduser'), fake(`echo user >>${JSON.stringify(state)}`));
    await writeFile(path.join(bin, 'dpkg-statoverride'), fake(
      `case "$1" in --list) grep -qx override ${JSON.stringify(state)} ;; --update) echo override >>${JSON.stringify(state)} ;; esac`));
    await writeFile(path.join(bin, 'systemctl'), fake('exit 0'));
    for (const f of ['getent', 'adduser', 'dpkg-statoverride', 'systemctl']) await chmod(path.join(bin, f), 0o755);
    await writeFile(state, '');
    const control = path.join(dir, 'control');
    await ok('dpkg-deb', ['-e', deb, control]);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const calls = async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n')
      .filter((l) => l && !l.startsWith('systemctl') && !l.startsWith('getent') && !l.includes('--list'));

    await ok(path.join(control, 'postinst'), ['configure', ''], { env });
    assert.deepEqual(await calls(), [
      'adduser --system --group --home /var/lib/latchkey --no-create-home latchkey',
      'dpkg-statoverride --update --add root latchkey 0640 /etc/latchkey/latchkey.toml',
    ]);
    await rm(log);
    await ok(path.join(control, 'postinst'), ['configure', version], { env });
    assert.deepEqual(await calls(), [], 'an upgrade adds neither the user nor the override again');
    await ok(path.join(control, 'prerm'), ['upgrade', version], { env });
    await ok(path.join(control, 'postrm'), ['remove'], { env });
    assert.deepEqual(await calls(), []);
    await ok(path.join(control, 'postrm'), ['purge'], { env });
    assert.deepEqual(await calls(), ['dpkg-statoverride --remove /etc/latchkey/latchkey.toml']);
  });

  it('extracted into a clean root, runs as its unit says and serves a client-credentials request', async () => {
    const latchkey = path.join(root, 'usr/bin/latchkey');
    const unit = unitKeys(await readFile(path.join(root, 'lib/systemd/system/latchkey.service'), 'utf8'));
    // The unit's command line, its absolute paths taken inside the extracted root.
    const [, ...args] = unit.get('ExecStart')[0].split(' ').map((a) => (a.startsWith('/') ? path.join(root, a) : a));
    const data = path.join(dir, 'var-lib-latchkey');
    await mkdir(data);
    const database = await newDatabase(data);
    const port = await freePort();
    const env = envWith({
      LATCHKEY_LISTEN: `127.0.0.1:${port}`,
      LATCHKEY_DB: database.url,
      // SQLite: the key-encryption key beside the database, as the package's default is.
      ...(ON_POSTGRES ? { LATCHKEY_KEK_FILE: database.kekPath } : {}),
    });
    const config = path.join(root, 'etc/latchkey/latchkey.toml');
    try {
      assert.equal(await ok(latchkey, ['config', 'check', '--config', config], { env }),
        `${config}: valid; serve would listen on 127.0.0.1:${port} with the database ${database.url}\n`);
      // Without the overrides, the packaged file serves the service's own database on loopback.
      assert.equal(await ok(latchkey, ['config', 'check', '--config', config], { env: envWith() }),
        `${config}: valid; serve would listen on 127.0.0.1:8080 with the database sqlite:/var/lib/latchkey/latchkey.db\n`);

      const server = spawn(latchkey, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: data });
      let output = '';
      server.stdout.on('data', (c) => { output += c; });
      server.stderr.on('data', (c) => { output += c; });
      const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
      try {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "listening on" within 15 s:\n${output}`)), 15000);
          server.stdout.on('data', () => { if (/listening on/.test(output)) { clearTimeout(timer); resolve(); } });
          exited.then((r) => { clearTimeout(timer); reject(new Error(`exited ${r.code}:\n${output}`)); });
        });
        const issuer = `http://127.0.0.1:${port}`;
        assert.equal((await fetch(`${issuer}/readyz`)).status, 200);

        const cliJson = async (cliArgs) => JSON.parse(await ok(latchkey, cliArgs, { env }));
        await cliJson(['user', 'create', '--username', 'batch@localhost', '--password', 'a long enough password']);
        const app = await cliJson(['app', 'create', '--name', 'Packaged', '--scopes', 'api',
          '--client-credentials-user', 'batch@localhost']);
        const oidc = await client.discovery(new URL(issuer), app.client_id, { client_secret: app.client_secret },
          client.ClientSecretBasic(app.client_secret), { execute: [client.allowInsecureRequests] });
        const tokens = await client.clientCredentialsGrant(oidc, { scope: 'api' });
        assert.equal(tokens.token_type.toLowerCase(), 'bearer');
        assert.equal(tokens.scope, 'api');
        const introspection = await client.tokenIntrospection(oidc, tokens.access_token);
        assert.equal(introspection.active, true);
        assert.equal(introspection.username, 'batch@localhost', 'the token acts as the run-as user');
      } finally {
        server.kill('SIGTERM');
      }
      assert.deepEqual(await exited, { code: 0, signal: null }, output);
    } finally {
      await dropDatabase(database.url);
    }
  });
});
