import { type Tensor, WebrnnError, fmtShape, noGrad, tensor } from '../module/deps.js';
import type { Module } from '../module/Module.js';
import type { HostTensor } from './safetensors.js';

/** Parameters and buffers by dotted name (see `namedState`). */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Refuse names the module lacks or the dict lacks (default true). Shape mismatches are always refused. */
  readonly strict?: boolean;
}

export interface LoadStateDictResult {
  /** Parameters and buffers of the module that the dict had no value for (left as they were). */
  readonly missing: string[];
  /** Names in the dict that no parameter or buffer of the module has (ignored). */
  readonly unexpected: string[];
}

type TensorMaps = (m: Module) => readonly Map<string, Tensor>[];
// Module keeps its parameters and buffers protected; reading the maps is all that is needed here.
const paramsOf: TensorMaps = (m) => [(m as unknown as { params: Map<string, Tensor> }).params];
const buffersOf: TensorMaps = (m) => [(m as unknown as { ownBuffers: Map<string, Tensor> }).ownBuffers];
const stateOf: TensorMaps = (m) => [...paramsOf(m), ...buffersOf(m)];

/** The tensors `pick` gives of each module, named by their path in the tree; a shared tensor once. */
function namedTensors(module: Module, pick: TensorMaps): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  const seen = new Set<Tensor>();
  const visit = (m: Module, prefix: string) => {
    for (const map of pick(m)) {
      for (const [name, t] of map) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix + name, t]);
      }
    }
    m.children().forEach((c, i) => visit(c, `${prefix}${childName(m, c, i)}.`));
  };
  visit(module, '');
  return out;
}

/**
 * The parameters of a module tree with PyTorch-style dotted names: a child is named by the field of its parent
 * that holds it (FastLSTM's `i2g`, Recurrent's `inputModule`) or else by its 0-based index among the parent's
 * children (Sequential's `0`, Sequencer's `0`), then the parameter's own name, e.g. `2.0.i2g.weight`. A
 * parameter shared by several modules appears once, under its first name (the order of `parameters()`).
 */
export function namedParameters(module: Module): [string, Tensor][] {
  return namedTensors(module, paramsOf);
}

/** The buffers of a module tree (see Module.registerBuffer), named as parameters: `1.bnWx.runningMean`. */
export function namedBuffers(module: Module): [string, Tensor][] {
  return namedTensors(module, buffersOf);
}

/** Parameters and buffers, each module's parameters then its buffers, then its children (PyTorch's order). */
export function namedState(module: Module): [string, Tensor][] {
  return namedTensors(module, stateOf);
}

/** The field of `parent` that holds `child` (besides the `modules` array), else its index. */
export function childName(parent: Module, child: Module, index: number): string {
  const fields = parent as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'modules' && fields[key] === child) return key;
  }
  return String(index);
}

/**
 * The module's parameters and buffers by dotted name (see `namedState`), as PyTorch's state_dict. The values are
 * the tensors themselves, not copies (as PyTorch's state_dict shares storage): read them, do not dispose them.
 */
export function stateDict(module: Module): StateDict {
  return Object.fromEntries(namedState(module));
}

/** A value to load: a tensor on any device, or host values (from a file). */
export type StateValue = Tensor | HostTensor;

interface Plan {
  readonly pairs: [Tensor, StateValue][];
  readonly result: LoadStateDictResult;
}

/**
 * Match names, check shapes and (strict) missing/unexpected names, all before anything is written. With
 * `buffersOptional` (a file from before buffers were saved), missing buffers keep their values and are only
 * reported in `missing`, as PyTorch's versioned BatchNorm loads old files without `num_batches_tracked`.
 */
export function planLoad(
  op: string,
  module: Module,
  dict: Record<string, StateValue>,
  strict: boolean,
  source?: string,
  buffersOptional = false,
): Plan {
  const named = namedState(module);
  const known = new Set(named.map(([n]) => n));
  const optional = new Set(buffersOptional ? namedBuffers(module).map(([n]) => n) : []);
  const pairs: [Tensor, StateValue][] = [];
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, p] of named) {
    // Own names only: a dict's inherited `constructor` is no parameter.
    const v = Object.hasOwn(dict, name) ? dict[name] : undefined;
    if (v === undefined) missing.push(name);
    else if (v.shape.join() !== p.shape.join() || v.shape.length !== p.shape.length) {
      mismatched.push(`'${name}' is ${fmtShape(v.shape)} there, ${fmtShape(p.shape)} in the module`);
    } else pairs.push([p, v]);
  }
  const unexpected = Object.keys(dict).filter((n) => !known.has(n));
  const problems: string[] = [];
  if (mismatched.length > 0) problems.push(`shape mismatch: ${mismatched.join('; ')}`);
  const required = missing.filter((n) => !optional.has(n));
  if (strict && required.length > 0) problems.push(`missing: ${required.map((n) => `'${n}'`).join(', ')}`);
  if (strict && unexpected.length > 0) {
    problems.push(`unexpected: ${unexpected.map((n) => `'${n}'`).join(', ')}`);
  }
  if (problems.length > 0) {
    const what = source
      ? `${source} does not fit ${module.typeName}`
      : `the state dict does not fit ${module.typeName}`;
    const hint = strict && mismatched.length === 0 ? ' (pass { strict: false } to load what matches)' : '';
    throw new WebrnnError(op, `${what}: ${problems.join('; ')}${hint}`);
  }
  return { pairs, result: { missing, unexpected } };
}

/** Copy values into parameters in place (they keep their identity, device and dtype; values are converted). */
export function assign(pairs: readonly (readonly [Tensor, Tensor | HostTensor['data']])[]): void {
  noGrad(() => {
    for (const [p, v] of pairs) {
      if (!ArrayBuffer.isView(v)) {
        if (v !== p) p.copy_(v); // same device: copy_ converts the dtype
        continue;
      }
      const t = tensor(v, { shape: p.shape, dtype: p.dtype, device: p.device });
      p.copy_(t);
      t.dispose();
    }
  });
}

function isHost(v: StateValue): v is HostTensor {
  return ArrayBuffer.isView((v as HostTensor).data);
}

/**
 * Copy the dict's values into the module's parameters and buffers in place, as PyTorch's load_state_dict: they keep
 * their identity (optimisers and `getParameters()` views stay valid), their device and their dtype (values are
 * converted). Strict (the default) refuses missing and unexpected names; shape mismatches are always refused;
 * nothing is written unless everything fits. Values on a device that cannot be read synchronously (WebGPU) for
 * a module elsewhere need `loadStateDictAsync`.
 */
export function loadStateDict(
  module: Module,
  dict: Record<string, StateValue>,
  options: LoadStateDictOptions = {},
): LoadStateDictResult {
  const { pairs, result } = planLoad('loadStateDict', module, dict, options.strict ?? true);
  for (const [p, v] of pairs) {
    if (!isHost(v) && v.device !== p.device && !v.backend.canReadSync) {
      throw new WebrnnError(
        'loadStateDict',
        `a ${v.device} tensor cannot be read synchronously into a ${p.device} module; use \`await loadStateDictAsync(...)\``,
      );
    }
  }
  assign(pairs.map(([p, v]) => [p, isHost(v) ? v.data : v.device === p.device ? v : v.dataSync()] as const));
  return result;
}

/** loadStateDict for values on any device (reads WebGPU tensors with `await`). */
export async function loadStateDictAsync(
  module: Module,
  dict: Record<string, StateValue>,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictResult> {
  const { pairs, result } = planLoad('loadStateDictAsync', module, dict, options.strict ?? true);
  const values = await Promise.all(
    pairs.map(
      async ([p, v]) => [p, isHost(v) ? v.data : v.device === p.device ? v : await v.data()] as const,
    ),
  );
  assign(values);
  return result;
}
