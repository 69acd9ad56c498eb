import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, vi } from 'vitest';

/** A fresh temporary folder for a program's --out. */
export const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'webrnn-examples-'));

/** Mean of the first or last n values. */
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `<base>.svg` is an SVG document and `<base>.png` a PNG image of non-zero size. */
export function expectPlot(base: string): void {
  expect(existsSync(`${base}.svg`), `${base}.svg`).toBe(true);
  expect(readFileSync(`${base}.svg`, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  const png = readFileSync(`${base}.png`);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.readUInt32BE(16)).toBeGreaterThan(0); // IHDR width
  expect(png.readUInt32BE(20)).toBeGreaterThan(0); // IHDR height
}

/** Run a program without its console output (model trees, progress, summary) in the test log. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await fn();
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

/** Run a program and return what it returned with the lines it printed through console.log (its progress muted). */
export async function printed<T>(fn: () => Promise<T>): Promise<[T, string[]]> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return [await fn(), lines];
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}
