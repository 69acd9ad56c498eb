import { WebrnnError } from '../module/deps.js';
import type { Module } from '../module/Module.js';
import type { AnyOptimizer } from './optimizerState.js';
import {
  type Json,
  type LoadModuleOptions,
  type LoadModuleResult,
  loadModuleFromSafetensors,
  moduleToSafetensors,
} from './checkpoint.js';

/**
 * Checkpoints without a file system (a browser): a module as a Blob of .safetensors bytes, a Blob (a File from an
 * <input type="file">, a fetch response's blob()) loaded into a module, and a download of the file from a page.
 * The bytes are those of saveModule's files, so a model trained in a page loads in Node or Python and back.
 */

const MIME = 'application/octet-stream';

/** The module (and optimiser) as a Blob of .safetensors bytes; values as at the call. */
export async function moduleToBlob(
  module: Module,
  metadata: Record<string, Json> = {},
  optimizer?: AnyOptimizer,
): Promise<Blob> {
  const bytes = await moduleToSafetensors(module, metadata, optimizer, 'moduleToBlob');
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: MIME });
}

/** Load a Blob (or File) of .safetensors bytes into a module, as loadModule does a file. */
export async function loadModuleFromBlob(
  blob: Blob,
  module: Module,
  options: LoadModuleOptions = {},
): Promise<LoadModuleResult> {
  if (!(blob instanceof Blob)) {
    throw new WebrnnError('loadModuleFromBlob', `expected a Blob or File, got ${describe(blob)}`);
  }
  const name = (blob as { name?: unknown }).name;
  const source = typeof name === 'string' && name !== '' ? name : '<blob>';
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return loadModuleFromSafetensors(bytes, module, options, source, 'loadModuleFromBlob');
}

interface Page {
  document?: {
    createElement(tag: 'a'): { href: string; download: string; click(): void; remove(): void };
    body: { append(node: unknown): void };
  };
  URL: { createObjectURL(b: Blob): string; revokeObjectURL(u: string): void };
}

/**
 * In a page, save the module as a .safetensors file through the browser's download (the user's Downloads
 * folder); in Node use saveModule.
 */
export async function downloadModule(
  filename: string,
  module: Module,
  metadata: Record<string, Json> = {},
  optimizer?: AnyOptimizer,
): Promise<void> {
  const page = globalThis as unknown as Page;
  if (!page.document) {
    throw new WebrnnError(
      'downloadModule',
      `got '${filename}', but there is no page to download from; in Node use io.saveModule`,
    );
  }
  const url = page.URL.createObjectURL(await moduleToBlob(module, metadata, optimizer));
  const a = page.document.createElement('a');
  a.href = url;
  a.download = filename;
  page.document.body.append(a);
  a.click();
  a.remove();
  // The download has taken its copy once click() returns; a later revoke keeps old browsers safe.
  setTimeout(() => page.URL.revokeObjectURL(url), 1000);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
