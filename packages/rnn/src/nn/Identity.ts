import type { Activity } from '../module/activity.js';
import { Module } from '../module/Module.js';

/** Passes its input (tensor or table) through unchanged (torch's nn.Identity). */
export class Identity extends Module {
  override updateOutput(input: Activity): Activity {
    return input;
  }
}
