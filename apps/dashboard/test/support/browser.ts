import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it): playwright never downloads one. */
export const chromiumPath = '/usr/bin/chromium';

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** `test-output/` at the repository root (gitignored): screenshots a person can look at. */
export function screenshotPath(name: string): string {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../test-output');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
