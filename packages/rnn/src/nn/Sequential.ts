import type { Activity } from './activity.js';
import { Container, indent } from './Container.js';

/** Children applied one after another (torch's nn.Sequential). */
export class Sequential extends Container {
  override updateOutput(input: Activity): Activity {
    let x = input;
    for (let i = 0; i < this.modules.length; i++) x = this.forwardChild(i, x);
    return x;
  }

  /** Insert a module at 0-based `index` (the end by default). */
  insert(module: Parameters<Container['add']>[0], index = this.modules.length): this {
    this.add(module);
    this.modules.splice(index, 0, this.modules.pop()!);
    return this;
  }

  remove(index = this.modules.length - 1): this {
    this.get(index);
    this.modules.splice(index < 0 ? index + this.modules.length : index, 1);
    return this;
  }

  override describe(): string {
    const steps = this.modules.map((_, i) => ` -> (${i + 1})`).join('');
    const lines = this.modules.map((m, i) => `\n  (${i + 1}): ${indent(m.describe(), '  ')}`).join('');
    return `${this.typeName} {\n  [input${steps} -> output]${lines}\n}`;
  }
}
