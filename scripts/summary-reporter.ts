import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI can read. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    let broken = 0;
    for (const m of modules) {
      const before = count.failed;
      for (const t of m.children.allTests()) count[t.result().state]++;
      // A file that failed without a failing test (it did not load, a hook threw) counts once; one whose tests
      // failed is counted by them.
      if (m.state() === 'failed' && count.failed === before) broken++;
    }
    console.log(`\n${count.passed} passed, ${count.failed + broken} failed, ${count.skipped} skipped`);
  }
}
