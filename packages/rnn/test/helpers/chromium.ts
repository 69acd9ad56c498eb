import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * The one way the browser tests find and start Chromium: Debian's (scripts/setup-browser.sh installs it) or
 * CHROMIUM_PATH. `chromiumForFile('what')` at a file's top level gives its path, or null with one printed line
 * (then `describe.skipIf(!chromium)`), and throws instead under WEBRNN_REQUIRE_WEBGPU=1 (CI), where a missing
 * browser must fail, not skip.
 */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export const requireBrowser = process.env.WEBRNN_REQUIRE_WEBGPU === '1';

export function chromiumForFile(what: string): string | null {
  const found = CANDIDATES.find((p): p is string => !!p && existsSync(p)) ?? null;
  if (!found) {
    const why = 'no Chromium (run scripts/setup-browser.sh as root, or set CHROMIUM_PATH)';
    if (requireBrowser) throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but ${why}`);
    console.log(`${what}: skipped, ${why}`);
  }
  return found;
}

/**
 * WebGPU in headless Chromium without a GPU: Vulkan on SwiftShader, with no window surface. (The README lists
 * these flags.)
 */
export const CHROMIUM_WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
];

/** Headless Chromium with WebGPU; no sandbox (CI runs as root, and containers often lack user namespaces). */
export function launchChromium(path: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: path,
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', ...CHROMIUM_WEBGPU_FLAGS],
  });
}
