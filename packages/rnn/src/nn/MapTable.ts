import { type Activity, expectTable } from '../module/activity.js';
import { Container } from '../module/Container.js';
import { WebrnnError } from '../module/deps.js';
import type { Module } from '../module/Module.js';

/**
 * Applies one module to every entry of the input table (torch's nn.MapTable). As in Torch, `modules` grows with
 * clones of the module that share its parameters and gradients (`sharedClone`), one per entry; on the tape the
 * shared parameters simply collect the gradients of every entry.
 */
export class MapTable extends Container {
  module: Module | null = null;

  constructor(module?: Module) {
    super();
    if (module) this.add(module);
  }

  override add(module: Module): this {
    if (this.module) throw new WebrnnError('nn.MapTable.add', 'a MapTable holds a single module');
    super.add(module);
    this.module = module;
    return this;
  }

  /** Make sure there is one (shared) copy of the module per entry. */
  private extend(n: number): void {
    for (let i = this.modules.length; i < n; i++) this.modules.push(this.module!.sharedClone());
  }

  /** Keep exactly `n` copies (at least the module itself). */
  resize(n: number): this {
    this.extend(n);
    for (const m of this.modules.splice(Math.max(1, n))) m.clearState();
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const t = expectTable('input', input);
    if (!this.module) throw new WebrnnError('nn.MapTable', 'has no module to apply; add one first');
    this.extend(t.length);
    return t.map((x, i) => this.forwardChild(i, x));
  }

  override clearState(): this {
    for (const m of this.modules.splice(1)) m.clearState();
    return super.clearState();
  }

  override describe(): string {
    if (!this.module) return `${this.typeName} { }`;
    return `${this.typeName} {\n  ${this.module.describe().replace(/\n/g, '\n        ')}\n}`;
  }
}
