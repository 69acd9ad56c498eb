import { type Activity, mapActivity } from '../module/activity.js';
import { Module } from '../module/Module.js';

/**
 * Element-research's nn.ZeroGrad: the output is the input (a table too), the gradInput is zeros shaped like it,
 * so nothing flows back through this path (the modern way too: `loss.backward()` stops here).
 */
export class ZeroGrad extends Module {
  override updateOutput(input: Activity): Activity {
    // A detached view: the output shares the input's storage (Torch's output:set(input)) but is off the tape.
    return mapActivity(input, (t) => t.detach());
  }
}
