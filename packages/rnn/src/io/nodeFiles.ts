import { WebrnnError } from '../module/deps.js';

/**
 * File paths are for Node. In a browser (or any runtime without Node's file system) the path-taking functions
 * refuse by name and point at the in-memory ones, instead of failing inside an import.
 */
const IN_MEMORY: Record<string, string> = {
  saveModule:
    'io.moduleToSafetensors(module, metadata, optimizer) (bytes) or io.moduleToBlob / io.downloadModule',
  saveTensors: 'io.encodeSafetensors(tensors, metadata) (bytes)',
  loadModule: 'io.loadModuleFromSafetensors(bytes, module) or io.loadModuleFromBlob(blob, module)',
  loadTensors: 'io.decodeSafetensors(bytes)',
  removeStaleTemporaryFiles: 'nothing: there are no temporary files outside Node',
};

const inNode = (): boolean =>
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** Throws, naming `op` and its in-memory alternative, where there is no Node file system. */
export function requireNodeFiles(op: string, path: string): void {
  if (inNode()) return;
  throw new WebrnnError(
    op,
    `got the path '${path}', but reading and writing files needs Node; here use ${IN_MEMORY[op] ?? 'the in-memory io functions'}`,
  );
}

/** node:fs/promises, imported by a name held in a variable: browser bundlers leave such imports alone. */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}
