import { type Activity, describeActivity, expectTable } from '../module/activity.js';
import { WebrnnError } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Entry `index` of a table (torch's nn.SelectTable), 0-based; a negative index counts from the end (-1 is the
 * last). The entry may itself be a table. The other entries get zero gradients.
 */
export class SelectTable extends Module {
  constructor(readonly index: number) {
    super();
    if (!Number.isInteger(index))
      throw new WebrnnError('nn.SelectTable', `index must be an integer, got ${index}`);
  }

  override updateOutput(input: Activity): Activity {
    const t = expectTable('input', input);
    const i = this.index < 0 ? t.length + this.index : this.index;
    if (i < 0 || i >= t.length) {
      throw new WebrnnError(
        'index',
        `${this.index} does not exist in the input table ${describeActivity(input)} (${t.length} entries, 0-based)`,
      );
    }
    return t[i]!;
  }

  override describe(): string {
    return `${this.typeName}(${this.index})`;
  }
}
