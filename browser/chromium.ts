/**
 * Headless Chromium through playwright-core with the system's executable (Debian's `chromium`
 * package; no browser is downloaded): the path, the switches, and a launcher shared by
 * `scan-conformance browser --headless` and the tests that look at pages.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Chromium's switches: headless, and nothing that reaches the network or writes outside its own profile. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** WebGPU on Linux is behind this switch (Chromium then offers SwiftShader where there is no GPU). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'] as const;

/** Why Chromium cannot be launched from `executable`, or undefined when the file exists. */
export function chromiumUnavailable(executable: string = DEFAULT_CHROMIUM): string | undefined {
  return existsSync(executable) ? undefined : `no Chromium at ${executable} (apt-get install chromium, or give --browser <path>)`;
}

/** Launches headless Chromium with WebGPU enabled. */
export function launchChromium(executable: string = DEFAULT_CHROMIUM): Promise<Browser> {
  return chromium.launch({ executablePath: executable, headless: true, args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS] });
}
