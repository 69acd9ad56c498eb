import { WebrnnError } from '../../errors.js';
import { nodeEnv } from '../../nodeBuiltins.js';
import { PERSISTENT_LSTM_MODES, type PersistentLstmMode } from './lstmSequence.js';
import { MATMUL_VARIANTS, type MatmulVariant } from './matmul.js';

/**
 * The kernel variants a process can force through its environment (tests, benchmarks, a driver's bug), read once
 * when the WebGPU backend is made: WEBRNN_MATMUL (tiled, subgroup, naive) and WEBRNN_PERSISTENT_LSTM (always,
 * never). Unset or empty is 'auto'; any other value is refused before an adapter is looked for, so that a typo
 * is an error and not a silent fallback to the CPU.
 */
export interface KernelChoices {
  readonly matmulVariant: MatmulVariant;
  readonly persistentLstm: PersistentLstmMode;
}

export function kernelChoicesFromEnv(): KernelChoices {
  return {
    matmulVariant: choiceFromEnv('WEBRNN_MATMUL', MATMUL_VARIANTS),
    persistentLstm: choiceFromEnv('WEBRNN_PERSISTENT_LSTM', PERSISTENT_LSTM_MODES),
  };
}

/** A setting chosen by an environment variable: 'auto' when unset or empty, else one of `choices` (or an error). */
function choiceFromEnv<T extends string>(name: string, choices: readonly T[]): T | 'auto' {
  const value = nodeEnv(name);
  if (value === undefined || value === '') return 'auto';
  if (!(choices as readonly string[]).includes(value)) {
    throw new WebrnnError('webgpu', `${name} is '${value}', expected one of ${choices.join(', ')}`);
  }
  return value as T;
}
