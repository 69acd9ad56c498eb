import { expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, cat, fmtShape, full, narrow, tidy } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * torch's nn.Padding: inserts |pad| entries equal to `value` along dimension `dim`. With pad < 0 they go before
 * entry `index` counted from the start; with pad > 0 they go after the last `index` entries (index 0: at the
 * end). With `nInputDim`, an input with nInputDim + 1 dimensions is a batch and `dim` moves one to the right.
 *
 * Dimensions and indices are 0-based, as everywhere in webrnn: Torch's `dim` d is d - 1 here (a negative dim
 * counts from the end, as in JoinTable), and Torch's `index` i (default 1) is i - 1 (default 0). So Torch's
 * `nn.Padding(1, -2)` (two entries before the first) is `new nn.Padding(0, -2)`, and `nn.Padding(2, 3, 2, 0, 2)`
 * (three zeros before the last column of an [N, C] input) is `new nn.Padding(1, 3, 2, 0, 1)`.
 */
export class Padding extends Module<Tensor, Tensor> {
  constructor(
    readonly dim: number,
    readonly pad: number,
    readonly nInputDim?: number,
    readonly value = 0,
    readonly index = 0,
  ) {
    super();
    const bad = (what: string, v: unknown, want: string) =>
      new WebrnnError('nn.Padding', `${what} must be ${want}, got ${String(v)}`);
    if (!Number.isInteger(dim)) throw bad('dim', dim, 'an integer');
    if (!Number.isInteger(pad)) throw bad('pad', pad, 'an integer');
    if (nInputDim !== undefined && (!Number.isInteger(nInputDim) || nInputDim < 1)) {
      throw bad('nInputDim', nInputDim, 'a positive integer');
    }
    if (typeof value !== 'number') throw bad('value', value, 'a number');
    if (!Number.isInteger(index) || index < 0) throw bad('index', index, 'a non-negative integer (0-based)');
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    const d = this.resolveDim(x);
    if (x.dtype === 'int32' && !Number.isInteger(this.value)) {
      throw new WebrnnError('value', `${this.value} cannot pad an int32 input (an integer is needed)`);
    }
    const n = x.shape[d]!;
    // Where the padding goes, 0-based: Torch's insertion index, counted from the right when pad > 0.
    const at = this.pad > 0 ? n - this.index : this.index;
    if (at < 0 || at > n) {
      throw new WebrnnError(
        'index',
        `${this.index} is out of range for dimension ${d} of size ${n} (input shape ${fmtShape(x.shape)}): ` +
          `expected 0 to ${n}`,
      );
    }
    // Nothing to insert: the input itself, still in the graph (a detached copy would drop the gradient).
    if (this.pad === 0) return x.handle();
    return tidy(() => {
      const fill = full(
        x.shape.map((s, k) => (k === d ? Math.abs(this.pad) : s)),
        this.value,
        { dtype: x.dtype, device: x.device },
      );
      const parts: Tensor[] = [];
      if (at > 0) parts.push(narrow(x, d, 0, at));
      parts.push(fill);
      if (at < n) parts.push(narrow(x, d, at, n - at));
      return cat(parts, d);
    });
  }

  private resolveDim(x: Tensor): number {
    let d = this.dim;
    if (this.nInputDim !== undefined && x.rank !== this.nInputDim) {
      if (x.rank !== this.nInputDim + 1) {
        throw new WebrnnError(
          'input',
          `has shape ${fmtShape(x.shape)} (${x.rank} dimension(s)), expected ${this.nInputDim} (nInputDim) or ` +
            `${this.nInputDim + 1} for a batch`,
        );
      }
      if (d >= 0) d += 1;
    }
    const r = d < 0 ? x.rank + d : d;
    if (r < 0 || r >= x.rank) {
      throw new WebrnnError(
        'dim',
        `${this.dim}${r !== this.dim ? ` (resolved to ${r})` : ''} is out of range for an input of shape ${fmtShape(x.shape)}`,
      );
    }
    return r;
  }

  override describe(): string {
    return `${this.typeName}(dim ${this.dim}, pad ${this.pad}${this.value !== 0 ? `, value ${this.value}` : ''})`;
  }
}
