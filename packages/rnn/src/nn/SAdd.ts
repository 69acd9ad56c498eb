import { floatTensor } from '../module/checks.js';
import { type Tensor, WebrnnError, add, neg, tidy } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Element-research's nn.SAdd: y = x + addend, or -(x + addend) with `negate`; a constant, so no parameters. Its
 * gradient is gradOutput (negated with `negate`). Torch also takes a tensor addend by accident of Lua's `+`;
 * here the addend is a number (add an nn.Add or nn.CAddTable for tensors).
 */
export class SAdd extends Module<Tensor, Tensor> {
  constructor(
    readonly addend: number,
    readonly negate = false,
  ) {
    super();
    if (typeof addend !== 'number' || Number.isNaN(addend)) {
      throw new WebrnnError('nn.SAdd', `addend must be a number, got ${String(addend)}`);
    }
    if (typeof negate !== 'boolean') {
      throw new WebrnnError('nn.SAdd', `negate must be a boolean, got ${String(negate)}`);
    }
  }

  override updateOutput(input: Tensor): Tensor {
    const x = floatTensor(input);
    // Torch adds, then negates: -(x + a) rounds exactly as x + a does, so the two steps are kept.
    return this.negate ? tidy(() => neg(add(x, this.addend))) : add(x, this.addend);
  }

  override describe(): string {
    return `${this.typeName}(${this.addend}${this.negate ? ', negate' : ''})`;
  }
}
