import { type Activity, flattenActivity, mapActivity } from '../module/activity.js';
import { noGrad } from '../module/deps.js';
import { Identity } from './Identity.js';

/**
 * Element-research's nn.CopyGrad: an Identity whose gradInput is a copy of gradOutput, never a view of it, so
 * that a later in-place change of one does not reach the other.
 */
export class CopyGrad extends Identity {
  protected override runVjp(op: string, gradOutput: Activity, scale: number, accumulate: boolean): Activity {
    const g = super.runVjp(op, gradOutput, scale, accumulate);
    // An identity's vector-Jacobian product may pass gradOutput's storage through: copy what it shares.
    const given = flattenActivity(gradOutput);
    const shared = new Set(given.map((t) => t.storage));
    this.gradInput = mapActivity(g, (t) => {
      if (!shared.has(t.storage)) return t;
      const copy = noGrad(() => t.clone());
      // The view is ours to drop (gradOutput itself is the caller's).
      if (!given.includes(t)) t.dispose();
      return copy;
    });
    return this.gradInput;
  }
}
