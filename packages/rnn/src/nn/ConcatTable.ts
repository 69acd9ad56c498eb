import type { Activity } from '../module/activity.js';
import { Container } from '../module/Container.js';
import { branchTree } from '../module/treeFormat.js';

/**
 * Applies every child to the same input and outputs the table of their outputs (torch's nn.ConcatTable). The
 * input may be a tensor or a table; its gradient is the sum of the children's (the tape adds them).
 */
export class ConcatTable extends Container {
  override updateOutput(input: Activity): Activity {
    return this.modules.map((_, i) => this.forwardChild(i, input));
  }

  override describe(): string {
    return branchTree(this.typeName, this.modules);
  }
}
