import type { Activity } from './activity.js';
import { sameShapes, tensorTable } from './checks.js';
import { mul, tidy } from './deps.js';
import { Module } from './Module.js';

/** The elementwise product of a table of same-shaped tensors (torch's nn.CMulTable). */
export class CMulTable extends Module {
  override updateOutput(input: Activity): Activity {
    const xs = tensorTable(input);
    sameShapes(xs);
    return tidy(() => xs.slice(1).reduce((acc, x) => mul(acc, x), xs[0]!));
  }
}
