import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type nn, type optim } from '@webrnn/rnn';
import type { ModelConfig } from './model.js';

/**
 * Checkpoints of the language model: a safetensors file (rnn's io.saveModule) holding the weights, the
 * optimiser's state and, in the metadata key `charLm`, what rebuilding the model needs: the vocabulary (so that
 * the ids mean the same characters), the sizes and cell, the optimiser and the iterations done.
 */
export interface CheckpointInfo extends Omit<ModelConfig, 'vocab'> {
  readonly chars: string[];
  readonly optim: 'adam' | 'rmsprop';
  readonly iterations: number;
}

export interface Checkpoint {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly info: CheckpointInfo;
}

const KEY = 'charLm';

export async function saveCheckpoint(
  file: string,
  net: nn.Module,
  optimizer: optim.Adam | optim.RMSprop,
  info: CheckpointInfo,
): Promise<void> {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await io.saveModule(file, net, { [KEY]: { ...info } }, optimizer);
}

/** Read a checkpoint and check its `charLm` metadata; the weights are loaded by `loadCheckpoint`. */
export async function readCheckpoint(file: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new Error(`--resume: cannot read ${file}: ${(e as Error).message}`);
  }
  const raw = io.decodeSafetensors(bytes, file, '--resume').metadata[KEY];
  const bad = (why: string): never => {
    throw new Error(`--resume: ${file} is not a char-lm checkpoint (${why})`);
  };
  if (raw === undefined) bad(`no '${KEY}' metadata`);
  let info: CheckpointInfo;
  try {
    info = JSON.parse(raw!) as CheckpointInfo;
  } catch (e) {
    return bad(`its '${KEY}' metadata is not JSON: ${(e as Error).message}`);
  }
  const positive = (k: 'layers' | 'embed' | 'hidden') => Number.isInteger(info[k]) && info[k] > 0;
  if (
    !Array.isArray(info.chars) ||
    info.chars.length === 0 ||
    info.chars.some((c) => typeof c !== 'string')
  ) {
    bad('no vocabulary');
  }
  if (!(['layers', 'embed', 'hidden'] as const).every(positive)) bad('bad sizes');
  if (info.cell !== 'lstm' && info.cell !== 'gru') bad(`unknown cell '${info.cell}'`);
  if (info.optim !== 'adam' && info.optim !== 'rmsprop') bad(`unknown optimiser '${info.optim}'`);
  if (!Number.isInteger(info.iterations) || info.iterations < 0) bad('bad iteration count');
  return { path: file, bytes, info };
}

/** Load the weights (and the optimiser's state, when given) into a model built from `checkpoint.info`. */
export function loadCheckpoint(
  checkpoint: Checkpoint,
  net: nn.Module,
  optimizer?: optim.Adam | optim.RMSprop,
): void {
  io.loadModuleFromSafetensors(
    checkpoint.bytes,
    net,
    optimizer ? { optimizer } : {},
    checkpoint.path,
    '--resume',
  );
}
