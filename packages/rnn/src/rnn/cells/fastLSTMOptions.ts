import { WebrnnError } from '../../module/deps.js';
import type { DropoutOptions } from './GatedRecurrent.js';

/** FastLSTM's options: variational dropout (p, mono) and Element-research's batch-normalisation arguments. */
export interface FastLSTMOptions extends DropoutOptions {
  /** Recurrent batch normalisation (Element-research's `nn.FastLSTM.bn`); defaults to the class switch. */
  readonly bn?: boolean;
  /** The batch normalisations' epsilon (Torch's default 1e-5). */
  readonly eps?: number;
  /** The running statistics' momentum (Torch's default 0.1). */
  readonly momentum?: number;
  /** Whether the normalisations have a learned scale and shift (default true). */
  readonly affine?: boolean;
}

const OPTION_TYPES = {
  p: 'number',
  mono: 'boolean',
  bn: 'boolean',
  eps: 'number',
  momentum: 'number',
  affine: 'boolean',
} as const;

function check(name: string, v: unknown, type: 'number' | 'boolean'): void {
  if (v !== undefined && v !== null && typeof v !== type) {
    throw new WebrnnError('nn.FastLSTM', `${name} must be a ${type} (or null), got ${String(v)}`);
  }
}

/**
 * FastLSTM's 4th to 8th constructor arguments: Element-research's positional (eps, momentum, affine, p, mono; nil
 * as null or undefined) or one options object in 4th place.
 */
export function fastLSTMOptions(
  epsOrOptions: unknown,
  momentum: unknown,
  affine: unknown,
  p: unknown,
  mono: unknown,
): FastLSTMOptions {
  const given = (v: unknown) => v !== undefined && v !== null;
  if (typeof epsOrOptions === 'object' && epsOrOptions !== null) {
    if ([momentum, affine, p, mono].some(given)) {
      throw new WebrnnError(
        'nn.FastLSTM',
        'either an options object as the 4th argument or the positional eps, momentum, affine, p, mono, not both',
      );
    }
    const o = epsOrOptions as Record<string, unknown>;
    for (const [k, type] of Object.entries(OPTION_TYPES)) check(k, o[k], type);
    const unknown = Object.keys(o).filter((k) => !(k in OPTION_TYPES));
    if (unknown.length > 0) {
      throw new WebrnnError(
        'nn.FastLSTM',
        `unknown option(s) ${unknown.join(', ')}: expected ${Object.keys(OPTION_TYPES).join(', ')}`,
      );
    }
    return o as FastLSTMOptions;
  }
  check('eps', epsOrOptions, 'number');
  check('momentum', momentum, 'number');
  check('affine', affine, 'boolean');
  check('p', p, 'number');
  check('mono', mono, 'boolean');
  const o: Record<string, unknown> = {};
  if (given(epsOrOptions)) o.eps = epsOrOptions;
  if (given(momentum)) o.momentum = momentum;
  if (given(affine)) o.affine = affine;
  if (given(p)) o.p = p;
  if (given(mono)) o.mono = mono;
  return o as FastLSTMOptions;
}
