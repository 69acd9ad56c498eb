import { type Activity, expectTable } from '../module/activity.js';
import { WebrnnError } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** Zips a table of tables: {{a1, a2}, {b1, b2}} -> {{a1, b1}, {a2, b2}} (torch's nn.ZipTable). */
export class ZipTable extends Module {
  override updateOutput(input: Activity): Activity {
    const outer = expectTable('input', input);
    const inner = outer.map((t, i) => expectTable(`input[${i}]`, t));
    const n = inner[0]?.length ?? 0;
    inner.forEach((t, i) => {
      if (t.length !== n) {
        throw new WebrnnError(`input[${i}]`, `has ${t.length} entries, expected ${n} like input[0]`);
      }
    });
    return Array.from({ length: n }, (_, j) => inner.map((t) => t[j]!));
  }
}
