import { type Tensor, WebrnnError, fmtShape, keep, tensor } from '../module/deps.js';
import { type Optimizer, disposeState } from '../optim/Optimizer.js';
import { STATE_TENSORS, checkOptimizerInfo } from './optimizerSchema.js';
import type { HostTensor } from './safetensors.js';
import { className } from '../module/className.js';

/** Any optimiser (SGD, Adam, RMSprop, ...): per-parameter states of tensors and numbers, and a config. */
export type AnyOptimizer = Optimizer<object, object>;

/** What of an optimiser is not a tensor: its class, config and the numbers of each state (e.g. Adam's `t`). */
export interface OptimizerInfo {
  readonly type: string;
  readonly config: Record<string, unknown>;
  readonly states: Record<string, number | boolean>[];
}

/** Tensors of optimiser state are saved as `optim.<parameter index>.<field>`, e.g. `optim.0.m`. */
export const OPTIM_PREFIX = 'optim.';

/**
 * The state of an optimiser: its tensors by name (`optim.0.m`, `optim.0.v`, ...: the optimiser's own tensors,
 * not copies) and the rest as JSON-able info. Parameters are numbered in the optimiser's order.
 */
export function optimizerState(opt: AnyOptimizer): { tensors: Record<string, Tensor>; info: OptimizerInfo } {
  const tensors: Record<string, Tensor> = {};
  const states = opt.states.map((s, i) => {
    const numbers: Record<string, number | boolean> = {};
    for (const [field, v] of Object.entries(s as Record<string, unknown>)) {
      if (typeof v === 'number' || typeof v === 'boolean') numbers[field] = v;
      else if (v && typeof v === 'object' && 'shape' in v && 'dispose' in v) {
        tensors[`${OPTIM_PREFIX}${i}.${field}`] = v as Tensor;
      }
    }
    return numbers;
  });
  const info = {
    type: className(opt.constructor),
    config: { ...(opt.config as Record<string, unknown>) },
    states,
  };
  return { tensors, info };
}

/** Optimiser tensors matched to their parameter and field, checked. */
export type OptimizerPlan = readonly (readonly [index: number, field: string, value: HostTensor])[];

/**
 * Check saved optimiser state against an optimiser (same class, as many parameters, tensors shaped as their
 * parameters) without changing anything.
 */
export function planOptimizerLoad(
  op: string,
  opt: AnyOptimizer,
  tensors: Record<string, HostTensor>,
  info: unknown,
  source: string,
): OptimizerPlan {
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg}`);
  };
  const type = className(opt.constructor);
  const checked = checkOptimizerInfo(info, type, source, op);
  if (checked.states.length !== opt.params.length) {
    fail(
      `holds optimiser state for ${checked.states.length} parameters, the optim.${type} has ${opt.params.length}`,
    );
  }
  const placed: [number, string, HostTensor][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^optim\.(\d+)\.([A-Za-z_$][\w$]*)$/.exec(name);
    const i = m ? Number(m[1]) : -1;
    if (!m || i >= opt.params.length) {
      fail(`optimiser tensor '${name}' does not name a state of one of the ${opt.params.length} parameters`);
    }
    const known = STATE_TENSORS[type];
    if (known && !known.includes(m![2]!)) {
      fail(`optimiser tensor '${name}' is no state of optim.${type} (it has ${known.join(', ')})`);
    }
    const p = opt.params[i]!;
    if (t.shape.join() !== p.shape.join() || t.shape.length !== p.shape.length) {
      fail(`optimiser tensor '${name}' is ${fmtShape(t.shape)}, its parameter ${i} is ${fmtShape(p.shape)}`);
    }
    placed.push([i, m![2]!, t]);
  }
  return placed;
}

/**
 * Restore an optimiser's state (from `optimizerState`, via a file): its config (as PyTorch's load_state_dict
 * does) and each parameter's numbers and tensors, placed on the parameter's device and dtype. The optimiser must
 * be of the same class over parameters of the same shapes; its old state tensors are freed.
 */
export function loadOptimizerState(
  op: string,
  opt: AnyOptimizer,
  tensors: Record<string, HostTensor>,
  info: OptimizerInfo,
  source: string,
): void {
  applyOptimizerState(opt, info, planOptimizerLoad(op, opt, tensors, info, source));
}

/** Replace the optimiser's config and state with checked saved values. */
export function applyOptimizerState(opt: AnyOptimizer, info: OptimizerInfo, plan: OptimizerPlan): void {
  opt.config = { ...info.config };
  opt.states.forEach((s, i) => {
    disposeState(s);
    const state = s as Record<string, unknown>;
    for (const k of Object.keys(state)) delete state[k];
    Object.assign(state, info.states[i]);
  });
  for (const [i, field, t] of plan) {
    const p = opt.params[i]!;
    (opt.states[i] as Record<string, unknown>)[field] = keep(
      tensor(t.data, { shape: t.shape, dtype: p.dtype, device: p.device }),
    );
  }
}
