import { type DType, type DeviceName, type Tensor, WebrnnError, getBackend, tensor } from '../module/deps.js';
import type { Module } from '../module/Module.js';
import { type LoadModuleOptions, type LoadModuleResult, OPTIM_KEY, loadFromContents } from './checkpoint.js';
import { OPTIM_PREFIX } from './optimizerState.js';
import { type HostTensor, withoutChecksums } from './safetensors.js';
import { openSafetensors } from './safetensorsFile.js';
import { setOwn } from './safetensorsHeader.js';
import { namedState } from './stateDict.js';

/**
 * Loading from files (Node), streamed: the header is read and checked whole, then only the tensors the load
 * uses, each from its offset (see safetensorsFile.ts), so a file larger than memory or than 2 GiB loads.
 */

/**
 * Load a file written by saveModule (or any safetensors file with the module's names) into a module
 * constructed the same way, in place; with `{ optimizer }` restore its state too. Returns the metadata and,
 * when not strict, the names that were missing or unexpected. Tensors the module does not use (unexpected
 * names, loaded with `{ strict: false }`) are not read.
 */
export async function loadModule(
  path: string,
  module: Module,
  options: LoadModuleOptions = {},
): Promise<LoadModuleResult> {
  const op = 'loadModule';
  const file = await openSafetensors(path, op);
  try {
    const { entries, metadata } = file.header;
    const known = new Set(namedState(module).map(([n]) => n));
    const optim = options.optimizer !== undefined && metadata[OPTIM_KEY] !== undefined;
    const tensors: Record<string, HostTensor> = {};
    for (const e of entries) {
      const used = known.has(e.name) || (optim && e.name.startsWith(OPTIM_PREFIX));
      // An unused tensor only needs its name and shape (it is reported, or refused, by name).
      const value = used ? await file.read(e) : { dtype: e.dtype, shape: e.shape, data: new Float32Array(0) };
      setOwn(tensors, e.name, value);
    }
    return loadFromContents({ tensors, metadata: withoutChecksums(metadata) }, module, options, path, op);
  } finally {
    await file.close();
  }
}

export interface LoadTensorsOptions {
  /** Where to put the tensors (default: the default device). */
  readonly device?: DeviceName;
  /** Convert floating-point tensors to this dtype (int32 tensors stay int32: they hold indices). */
  readonly dtype?: DType;
  /** Load only these tensors (each must be in the file); the others are not read. */
  readonly names?: readonly string[];
}

/** Load the tensors of a .safetensors file (ours or Python's) as new tensors; the caller owns them. */
export async function loadTensors(
  path: string,
  options: LoadTensorsOptions = {},
): Promise<Record<string, Tensor>> {
  const op = 'loadTensors';
  if (options.device) getBackend(options.device);
  if (options.dtype === 'int32') {
    throw new WebrnnError(op, `dtype must be float32 or float64 (int32 tensors are kept as they are)`);
  }
  const file = await openSafetensors(path, op);
  const out: Record<string, Tensor> = {};
  try {
    const { entries } = file.header;
    const wanted = options.names ? new Set(options.names) : null;
    if (wanted) {
      const have = new Set(entries.map((e) => e.name));
      const absent = [...wanted].filter((n) => !have.has(n));
      if (absent.length > 0) {
        throw new WebrnnError(op, `${path} has no tensor ${absent.map((n) => `'${n}'`).join(', ')}`);
      }
    }
    for (const e of entries) {
      if (wanted && !wanted.has(e.name)) continue;
      const t = await file.read(e);
      const dtype = t.dtype !== 'int32' && options.dtype ? options.dtype : t.dtype;
      const device = options.device ? { device: options.device } : {};
      setOwn(out, e.name, tensor(t.data, { shape: t.shape, dtype, ...device }));
    }
    return out;
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  } finally {
    await file.close();
  }
}
