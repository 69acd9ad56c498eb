import { type Activity, describeActivity, expectTable } from '../module/activity.js';
import { WebrnnError } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** The `length` entries of a table starting at 0-based `offset` (torch's nn.NarrowTable); others get zero gradients. */
export class NarrowTable extends Module {
  constructor(
    readonly offset: number,
    readonly length = 1,
  ) {
    super();
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0) {
      throw new WebrnnError(
        'nn.NarrowTable',
        `offset and length must be non-negative integers, got ${offset} and ${length}`,
      );
    }
  }

  override updateOutput(input: Activity): Activity {
    const t = expectTable('input', input);
    if (this.offset + this.length > t.length) {
      throw new WebrnnError(
        'input',
        `has ${t.length} entries ${describeActivity(input)}, too few for offset ${this.offset} and length ${this.length}`,
      );
    }
    return t.slice(this.offset, this.offset + this.length);
  }
}
