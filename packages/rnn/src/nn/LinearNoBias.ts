import { Linear } from './Linear.js';

/**
 * Element-research's nn.LinearNoBias: y = x W^T, a Linear without a bias (weight [outputSize, inputSize], Torch's
 * initialisation). The same as `new nn.Linear(i, o, false)` or `new nn.Linear(i, o).noBias()`, under its own name
 * (so it prints, saves and reads as Torch's class).
 */
export class LinearNoBias extends Linear {
  constructor(inputSize: number, outputSize: number) {
    super(inputSize, outputSize, false);
  }

  override describe(): string {
    return `${this.typeName}(${this.inputSize} -> ${this.outputSize})`;
  }
}
