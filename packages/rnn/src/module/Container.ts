import type { Activity } from './activity.js';
import { WebrnnError } from './deps.js';
import { ModuleError } from './errors.js';
import { Module } from './Module.js';

/** A module made of child modules (Torch's nn.Container). */
export abstract class Container<
  In extends Activity = Activity,
  Out extends Activity = Activity,
> extends Module<In, Out> {
  modules: Module[] = [];

  /**
   * Append a child; returns the container (typed as a plain Container, so that Sequential's `add` can narrow its
   * output type to the new last child's).
   */
  add(module: Module): Container {
    if (!(module instanceof Module)) {
      throw new WebrnnError(`${this.typeName}.add`, `expected a module, got ${String(module)}`);
    }
    this.modules.push(module);
    return this;
  }

  /** The child at 0-based `index` (negative counts from the end). */
  get(index: number): Module {
    const i = index < 0 ? index + this.modules.length : index;
    const m = this.modules[i];
    if (!m) {
      throw new WebrnnError(
        `${this.typeName}.get`,
        `index ${index} is out of range for ${this.modules.length} modules`,
      );
    }
    return m;
  }

  size(): number {
    return this.modules.length;
  }

  override children(): readonly Module[] {
    return this.modules;
  }

  /** Run child `i`'s forward, naming the step in any error (e.g. `nn.Sequential[2]`). */
  protected forwardChild(i: number, input: Activity): Activity {
    try {
      return this.modules[i]!.forward(input);
    } catch (e) {
      throw ModuleError.within(e, `${this.typeName}[${i}]`);
    }
  }
}

/** Indent every line after the first (Torch's way of nesting printed modules). */
export function indent(text: string, pad: string): string {
  return text.replace(/\n/g, `\n${pad}`);
}
