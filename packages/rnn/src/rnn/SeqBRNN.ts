import type { Activity } from '../module/activity.js';
import { CAddTable } from '../nn/CAddTable.js';
import { ConcatTable } from '../nn/ConcatTable.js';
import { Container } from '../module/Container.js';
import { type Tensor, WebrnnError } from '../module/deps.js';
import { Module } from '../module/Module.js';
import { Sequential } from '../nn/Sequential.js';
import { Transpose } from '../nn/Transpose.js';
import type { RememberMode } from './state.js';
import { SeqGRU } from './SeqGRU.js';
import { SeqLSTM } from './SeqLSTM.js';
import { SeqReverseSequence, setBidirectionalMask } from './SeqReverseSequence.js';

/** Builds one direction's whole-sequence layer: [T, N, inputDim] -> [T, N, hiddenDim]. */
export type SeqLayerFactory = (inputDim: number, hiddenDim: number) => Module;

/**
 * Element-research's nn.SeqBRNN, a bidirectional SeqLSTM: one SeqLSTM reads the sequence [T, N, inputDim] (or
 * [N, T, inputDim] with `batchFirst`) forwards, another reads it reversed along time and its output is reversed
 * back, and the two outputs [T, N, hiddenDim] are merged by `merge` (default CAddTable, their sum) as whole
 * tensors. As Torch it is Sequential(ConcatTable(fwd, Sequential(SeqReverseSequence(0), bwd,
 * SeqReverseSequence(0))), merge), inside Transposes when batch-first; backward is one vector-Jacobian product.
 *
 * `layer` chooses the layer of each direction (SeqLSTM by default); SeqBLSTM and SeqBGRU use it.
 */
export class SeqBRNN extends Container {
  readonly forwardModule: Module;
  readonly backwardModule: Module;
  readonly merge: Module;
  /** The time dimension the backward layer reverses (Torch's dim = 1, 0-based). */
  readonly dim = 0;

  constructor(
    readonly inputDim: number,
    readonly hiddenDim: number,
    readonly batchFirst = false,
    merge?: Module | null,
    layer: SeqLayerFactory = (i, h) => new SeqLSTM(i, h),
  ) {
    super();
    if (merge !== undefined && merge !== null && !(merge instanceof Module)) {
      throw new WebrnnError(this.typeName, `merge must be a module or nothing, got ${String(merge)}`);
    }
    this.forwardModule = layer(inputDim, hiddenDim);
    this.backwardModule = layer(inputDim, hiddenDim);
    this.merge = merge ?? new CAddTable();
    const backward = new Sequential()
      .add(new SeqReverseSequence(this.dim))
      .add(this.backwardModule)
      .add(new SeqReverseSequence(this.dim));
    const brnn = new Sequential()
      .add(new ConcatTable().add(this.forwardModule).add(backward))
      .add(this.merge);
    if (batchFirst) {
      brnn.insert(new Transpose([0, 1]), 0);
      brnn.insert(new Transpose([0, 1]));
    }
    this.add(brnn);
  }

  /** The Sequential that does the work (Torch's self.module). */
  get module(): Sequential {
    return this.modules[0] as Sequential;
  }

  override updateOutput(input: Activity): Activity {
    return this.forwardChild(0, input);
  }

  /** A mask of padded steps ([T, N], or [N, T] when batch-first): the backward layer gets it reversed in time. */
  override setZeroMask(zeroMask: Tensor | null | false): this {
    setBidirectionalMask(this.forwardModule, this.backwardModule, zeroMask, this.batchFirst ? 1 : 0);
    return this;
  }

  /** As torch/rnn's BiSequencer: the forward layer may remember its state between sequences, the backward never. */
  override remember(mode: RememberMode = 'both'): this {
    callIf(this.forwardModule, 'remember', mode);
    callIf(this.backwardModule, 'remember', 'neither');
    return this;
  }

  override forget(): this {
    callIf(this.forwardModule, 'forget');
    callIf(this.backwardModule, 'forget');
    return this;
  }

  override describe(): string {
    return `${this.typeName} @ ${this.module.describe()}`;
  }
}

/**
 * torch/rnn's nn.SeqBLSTM(inputsize, hiddensize[, outputsize][, merge]): SeqBRNN with SeqLSTM layers, an
 * LSTMP projection to `outputsize` when given (a module in its place is the merge), merge CAddTable by default.
 */
export class SeqBLSTM extends SeqBRNN {
  constructor(
    inputSize: number,
    hiddenSize: number,
    outputSize?: number | Module | null,
    merge?: Module | null,
  ) {
    const proj = typeof outputSize === 'number' ? outputSize : undefined;
    const m = outputSize instanceof Module ? outputSize : merge;
    super(inputSize, proj ?? hiddenSize, false, m, (i) => new SeqLSTM(i, hiddenSize, proj));
  }
}

/** torch/rnn's nn.SeqBGRU(inputsize, outputsize[, merge]): SeqBRNN with SeqGRU layers, merge CAddTable by default. */
export class SeqBGRU extends SeqBRNN {
  constructor(inputSize: number, outputSize: number, merge?: Module | null) {
    super(inputSize, outputSize, false, merge, (i, h) => new SeqGRU(i, h));
  }
}

function callIf(m: Module, method: 'remember' | 'forget', ...args: unknown[]): void {
  const f = (m as unknown as Record<string, unknown>)[method];
  if (typeof f === 'function') f.apply(m, args);
}
