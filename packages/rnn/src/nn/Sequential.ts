import type { Activity } from '../module/activity.js';
import { Container, indent } from '../module/Container.js';
import type { Module } from '../module/Module.js';

/**
 * Children applied one after another (torch's nn.Sequential). Its output type is the last child's, as `add` says:
 * `new nn.Sequential().add(new nn.Linear(4, 2)).forward(x)` is a Tensor to TypeScript, no cast needed; the input
 * type can be given, `new nn.Sequential<Tensor>()`.
 */
export class Sequential<In extends Activity = Activity, Out extends Activity = Activity> extends Container<
  In,
  Out
> {
  override updateOutput(input: In): Out {
    let x: Activity = input;
    for (let i = 0; i < this.modules.length; i++) x = this.forwardChild(i, x);
    return x as Out;
  }

  /** Append a child: the Sequential's output type becomes the child's. */
  override add<O extends Activity>(module: Module<Activity, O>): Sequential<In, O> {
    super.add(module);
    return this as unknown as Sequential<In, O>;
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
