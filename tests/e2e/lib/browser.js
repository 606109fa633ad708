// Chromium (Debian's, driven by playwright-core) as every browser test launches it: headless,
// without the background traffic a fresh profile starts (updates, sync, QUIC probes), so that it
// talks to the test's servers on 127.0.0.1 only.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium; `extraArgs` are added to the common flags. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...ARGS, ...extraArgs] });
}
