import { type Activity, describeActivity, expectTable } from '../module/activity.js';
import { Container } from '../module/Container.js';
import { WebrnnError } from '../module/deps.js';
import { branchTree } from '../module/treeFormat.js';

/** Applies child i to entry i of the input table and outputs the table of results (torch's nn.ParallelTable). */
export class ParallelTable extends Container {
  override updateOutput(input: Activity): Activity {
    const t = expectTable('input', input);
    if (t.length < this.modules.length) {
      throw new WebrnnError(
        'input',
        `has ${t.length} entries ${describeActivity(input)}, expected one for each of the ${this.modules.length} modules`,
      );
    }
    return this.modules.map((_, i) => this.forwardChild(i, t[i]!));
  }

  override describe(): string {
    return branchTree(this.typeName, this.modules);
  }
}
