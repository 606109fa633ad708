// The harness itself (lib/server.js): stop() fails the test when the server does not shut down
// cleanly. docs/behaviour.md §7 says `serve` exits with status 0 after SIGTERM; under `make
// test-sanitize` a leak or UB found at shutdown shows only in that exit status and on stderr,
// so every test that stops a server checks it. A shell script stands in for the server here.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, startServer } from './lib/server.js';

// Prints the line startServer waits for, then on SIGTERM writes to stderr and exits with $1.
function standIn(exitStatus) {
  return `#!/bin/sh
trap 'echo "==1==ERROR: LeakSanitizer: detected memory leaks" >&2; exit ${exitStatus}' TERM
echo "listening on http://127.0.0.1:9"
while :; do sleep 0.05; done
`;
}

describe('harness: stop() checks how the server ended', () => {
  let dir;
  const bins = {};

  before(async () => {
    dir = await makeTempDir('latchkey-harness-');
    for (const status of [0, 23]) {
      bins[status] = path.join(dir, `serve-exits-${status}.sh`);
      await writeFile(bins[status], standIn(status));
      await chmod(bins[status], 0o755);
    }
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('resolves with status 0 when the server exits 0 after SIGTERM', async () => {
    const server = await startServer('sqlite:unused.db', { bin: bins[0] });
    const r = await server.stop(5000);
    assert.equal(r.code, 0);
    assert.equal(r.killed, false);
  });

  it('rejects, with the stderr tail, when the server exits non-zero after SIGTERM', async () => {
    const server = await startServer('sqlite:unused.db', { bin: bins[23] });
    await assert.rejects(server.stop(5000), (e) => {
      assert.match(e.message, /exited with status 23 after SIGTERM/);
      assert.match(e.message, /LeakSanitizer: detected memory leaks/);
      return true;
    });
  });

  it('does not reject for a server a test killed with SIGKILL', async () => {
    const server = await startServer('sqlite:unused.db', { bin: bins[23] });
    server.child.kill('SIGKILL');
    await server.exited;
    assert.equal((await server.stop()).signal, 'SIGKILL');
  });
});
