import type { Activity } from './activity.js';
import { Module } from './Module.js';

/** Passes its input (tensor or table) through unchanged (torch's nn.Identity). */
export class Identity extends Module {
  override updateOutput(input: Activity): Activity {
    return input;
  }
}
