import { type Tensor, WebrnnError } from '../module/deps.js';
import type { Module } from '../module/Module.js';
import {
  type AnyOptimizer,
  OPTIM_PREFIX,
  type OptimizerInfo,
  applyOptimizerState,
  optimizerState,
  planOptimizerLoad,
} from './optimizerState.js';
import {
  type HostTensor,
  type SafetensorsContents,
  decodeSafetensors,
  encodeSafetensors,
} from './safetensors.js';
import { writeSerialised } from './serialisedWrites.js';
import { setOwn } from './safetensorsHeader.js';
import { type Snapshot, snapshot } from './snapshot.js';
import { type LoadStateDictResult, assign, namedBuffers, namedState, planLoad } from './stateDict.js';

/** JSON-able values for a checkpoint's metadata (a model's constructor config, an epoch, a step...). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Metadata keys webrnn keeps for itself. */
const RESERVED = 'webrnn.';
export const OPTIM_KEY = 'webrnn.optim';
/** The module's structure as Torch prints it, checked on a strict load. */
const MODULE_KEY = 'webrnn.module';
/**
 * The names of the buffers saved (a JSON array). Files written before buffers were saved lack it: their loads
 * accept missing buffers (the module keeps its own, and `missing` names them); files that have it need them.
 */
const BUFFERS_KEY = 'webrnn.buffers';

export interface LoadModuleOptions {
  /** Refuse missing and unexpected parameter and buffer names (default true). */
  readonly strict?: boolean;
  /** Restore this optimiser's state too (the file must hold one, saved with the model). */
  readonly optimizer?: AnyOptimizer;
}

export interface LoadModuleResult extends LoadStateDictResult {
  /** The metadata given to saveModule (values parsed back from JSON; other files' plain strings as they are). */
  readonly metadata: Record<string, Json>;
}

/** What a save captured synchronously at its call: metadata as strings and a snapshot of every tensor. */
interface Captured {
  readonly meta: Record<string, string>;
  readonly tensors: Snapshot;
}

/**
 * Everything a checkpoint holds, taken now (no await): the metadata as JSON, the module's structure, the
 * optimiser's numbers and a snapshot of the parameters, buffers and optimiser tensors. What happens after the caller's
 * next step cannot change it.
 */
function captureModule(
  module: Module,
  metadata: Record<string, Json>,
  optimizer: AnyOptimizer | undefined,
  op: string,
): Captured {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (k.startsWith(RESERVED))
      throw new WebrnnError(op, `metadata keys starting '${RESERVED}' are reserved, got '${k}'`);
    const s = JSON.stringify(v);
    if (s === undefined) throw new WebrnnError(op, `metadata '${k}' is not JSON-able (${typeof v})`);
    meta[k] = s;
  }
  meta[MODULE_KEY] = JSON.stringify(module.toString());
  meta[BUFFERS_KEY] = JSON.stringify(namedBuffers(module).map(([n]) => n));
  const named: [string, Tensor][] = [];
  for (const [name, p] of namedState(module)) {
    if (optimizer && name.startsWith(OPTIM_PREFIX)) {
      throw new WebrnnError(op, `'${name}' clashes with the optimiser's names '${OPTIM_PREFIX}*'`);
    }
    named.push([name, p]);
  }
  if (optimizer) {
    const { tensors: state, info } = optimizerState(optimizer);
    named.push(...Object.entries(state));
    // JSON now: the optimiser's config and step counts change with the next step.
    meta[OPTIM_KEY] = JSON.stringify(info);
  }
  return { meta, tensors: snapshot(named, op) };
}

async function encodeCaptured(captured: Captured, op: string): Promise<Uint8Array> {
  return encodeSafetensors(await captured.tensors.read(), captured.meta, op);
}

/**
 * A module's parameters and buffers (named as by `stateDict`), metadata (each value stored as JSON) and optionally an
 * optimiser's state (tensors `optim.<i>.<field>`), as the bytes of a .safetensors file. The values are those at
 * the call (a snapshot is taken before it returns), even if training continues before the promise settles.
 * For browsers (a download) and for `saveModule`.
 */
export function moduleToSafetensors(
  module: Module,
  metadata: Record<string, Json> = {},
  optimizer?: AnyOptimizer,
  op = 'moduleToSafetensors',
): Promise<Uint8Array> {
  try {
    return encodeCaptured(captureModule(module, metadata, optimizer, op), op);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Load the bytes of a .safetensors file into a module (and optimiser), checking the file and the names and
 * shapes before writing anything; parameters keep their identity, device and dtype. Returns the metadata.
 */
export function loadModuleFromSafetensors(
  bytes: Uint8Array,
  module: Module,
  options: LoadModuleOptions = {},
  source = '<bytes>',
  op = 'loadModuleFromSafetensors',
): LoadModuleResult {
  return loadFromContents(decodeSafetensors(bytes, source, op), module, options, source, op);
}

/** loadModuleFromSafetensors after the file is read: `tensors` holds at least those the load uses. */
export function loadFromContents(
  { tensors, metadata: raw }: SafetensorsContents,
  module: Module,
  options: LoadModuleOptions,
  source: string,
  op: string,
): LoadModuleResult {
  const params: Record<string, HostTensor> = {};
  const optim: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    // Optimiser state is split off only when the file says it holds some (a model may name a child `optim`).
    if (raw[OPTIM_KEY] !== undefined && name.startsWith(OPTIM_PREFIX)) setOwn(optim, name, t);
    else setOwn(params, name, t);
  }
  let info: OptimizerInfo | null = null;
  if (options.optimizer) {
    if (raw[OPTIM_KEY] === undefined) {
      throw new WebrnnError(
        op,
        `${source}: holds no optimiser state (save it with saveModule(path, module, metadata, optimizer))`,
      );
    }
    try {
      info = JSON.parse(raw[OPTIM_KEY]) as OptimizerInfo;
    } catch (e) {
      throw new WebrnnError(
        op,
        `${source}: metadata '${OPTIM_KEY}' is not valid JSON (${(e as Error).message})`,
      );
    }
  }
  const strict = options.strict ?? true;
  const buffersOptional = raw[BUFFERS_KEY] === undefined;
  const { pairs, result } = planLoad(op, module, params, strict, source, buffersOptional);
  if (strict && raw[MODULE_KEY] !== undefined) {
    // Names and shapes fit; the file also names the structure it was saved from (a Tanh is not a Sigmoid).
    const saved = parseOrKeep(raw[MODULE_KEY]);
    if (saved !== module.toString()) {
      throw new WebrnnError(
        op,
        `${source}: holds a model of another structure (load with { strict: false } to match by names only)\n` +
          `saved:  ${String(saved).replaceAll('\n', '\n        ')}\nloaded: ${module.toString().replaceAll('\n', '\n        ')}`,
      );
    }
  }
  // Check the optimiser's state before writing anything: a failed load leaves model and optimiser as they were.
  const plan = options.optimizer ? planOptimizerLoad(op, options.optimizer, optim, info!, source) : null;
  assign(pairs.map(([p, v]) => [p, (v as HostTensor).data] as const));
  if (options.optimizer) applyOptimizerState(options.optimizer, info!, plan!);
  const metadata: Record<string, Json> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith(RESERVED)) continue;
    setOwn(metadata, k, parseOrKeep(v));
  }
  return { ...result, metadata };
}

/** Our files store every value as JSON; other files (Python's `{"format": "pt"}`) may hold plain strings. */
function parseOrKeep(v: string): Json {
  try {
    return JSON.parse(v) as Json;
  } catch {
    return v;
  }
}

/**
 * Save a module's parameters and buffers (running statistics) to a .safetensors file (Node), with JSON metadata (e.g. the constructor config and
 * the training step) and optionally an optimiser's state, so that training can resume:
 * `await saveModule('ckpt.safetensors', model, { config, epoch }, optimizer)`. The file also loads in Python
 * (`safetensors.torch.load_file`), names as by `stateDict`.
 *
 * The values are those at the call (training may go on before the promise settles). The file is replaced
 * atomically and durably (a fresh temporary file, fsync, rename, fsync of the folder): a crash leaves the old
 * checkpoint or the new one, never a mix. Saves to one path in this process are written in call order.
 */
export async function saveModule(
  path: string,
  module: Module,
  metadata: Record<string, Json> = {},
  optimizer?: AnyOptimizer,
): Promise<void> {
  // Captured before the first await: the file holds the model as it is at this call.
  const captured = captureModule(module, metadata, optimizer, 'saveModule');
  await writeSerialised('saveModule', path, encodeCaptured(captured, 'saveModule'));
}

/** Save plain tensors (any device, dtype float32, float64 or int32) with optional string metadata. */
export async function saveTensors(
  path: string,
  record: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  // Captured before the first await: the file holds the values at this call.
  const captured = { meta: { ...metadata }, tensors: snapshot(Object.entries(record), 'saveTensors') };
  await writeSerialised('saveTensors', path, encodeCaptured(captured, 'saveTensors'));
}
