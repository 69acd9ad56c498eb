import { WebrnnError } from '../module/deps.js';
import type { OptimizerInfo } from './optimizerState.js';

/**
 * The shape of an optimiser's saved numbers, checked field by field before anything is restored: a file is
 * outside data, and `learningRate: "abc"` accepted would turn the weights into NaN at the next step.
 * Known optimisers have their exact fields; another optimiser class (a user's) gets the generic rule: finite
 * numbers and booleans only.
 */

type Kind = 'number' | 'boolean' | 'count';

const CONFIG: Record<string, Record<string, Kind>> = {
  SGD: {
    learningRate: 'number',
    lr: 'number',
    learningRateDecay: 'number',
    weightDecay: 'number',
    momentum: 'number',
    dampening: 'number',
    nesterov: 'boolean',
  },
  Adam: {
    learningRate: 'number',
    lr: 'number',
    learningRateDecay: 'number',
    beta1: 'number',
    beta2: 'number',
    epsilon: 'number',
    weightDecay: 'number',
  },
  RMSprop: {
    learningRate: 'number',
    lr: 'number',
    alpha: 'number',
    epsilon: 'number',
    weightDecay: 'number',
    initialMean: 'number',
  },
};
/** Per-parameter numbers (step counts). */
const STATE: Record<string, Record<string, Kind>> = {
  SGD: { evalCounter: 'count' },
  Adam: { t: 'count' },
  RMSprop: {},
};
/** Per-parameter tensors, saved as `optim.<i>.<field>`. */
export const STATE_TENSORS: Record<string, readonly string[]> = {
  SGD: ['dfdx'],
  Adam: ['m', 'v', 'denom'],
  RMSprop: ['m', 'tmp'],
};

function fits(kind: Kind | undefined, v: unknown): boolean {
  if (kind === 'boolean') return typeof v === 'boolean';
  if (kind === 'count') return Number.isSafeInteger(v) && (v as number) >= 0;
  if (kind === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)); // unknown class
}

const EXPECTED: Record<Kind, string> = {
  number: 'a finite number',
  boolean: 'a boolean',
  count: 'a non-negative integer',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Check parsed `webrnn.optim` JSON for an optimiser of class `type`; refuses naming the field and value. */
export function checkOptimizerInfo(info: unknown, type: string, source: string, op: string): OptimizerInfo {
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg}`);
  };
  if (
    !isRecord(info) ||
    typeof info.type !== 'string' ||
    !isRecord(info.config) ||
    !Array.isArray(info.states)
  ) {
    return fail('the optimiser info must be { type, config, states }');
  }
  if (info.type !== type) fail(`holds the state of optim.${info.type}, not of optim.${type}`);
  const field = (where: string, schema: Record<string, Kind> | undefined, k: string, v: unknown) => {
    if (schema && !Object.hasOwn(schema, k)) {
      fail(
        `optimiser ${where} has unknown field '${k}' (optim.${type} has ${Object.keys(schema).join(', ') || 'none'})`,
      );
    }
    const kind = schema?.[k];
    if (!fits(kind, v)) {
      fail(
        `optimiser ${where} field '${k}' must be ${kind ? EXPECTED[kind] : 'a finite number or a boolean'}, got ${JSON.stringify(v)}`,
      );
    }
  };
  for (const [k, v] of Object.entries(info.config)) field('config', CONFIG[type], k, v);
  info.states.forEach((s, i) => {
    if (!isRecord(s)) fail(`optimiser states[${i}] must be an object, got ${JSON.stringify(s)}`);
    for (const [k, v] of Object.entries(s as object)) field(`states[${i}]`, STATE[type], k, v);
  });
  return info as unknown as OptimizerInfo;
}
