import { type Activity, expectTable, flattenActivity } from '../module/activity.js';
import { Module } from '../module/Module.js';

/** Flattens a nested table into a flat table of its tensors, depth first (torch's nn.FlattenTable). */
export class FlattenTable extends Module {
  override updateOutput(input: Activity): Activity {
    expectTable('input', input);
    return flattenActivity(input);
  }
}
