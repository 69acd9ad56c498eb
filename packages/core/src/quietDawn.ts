import { nodeBuiltin, nodeEnv } from './nodeBuiltins.js';

/**
 * Dawn's two lines at adapter discovery on drivers that report more dynamic buffers than WebGPU allows (Mesa's
 * lavapipe says 1,000,000): C++ writes them straight to file descriptor 2 with fprintf, whatever limits are
 * requested, and Dawn has no switch or callback to silence them. A library cannot hide them safely (Node has no
 * dup2: closing and reopening its user's stderr races with other threads and loses it on a failure), but a
 * program owns its stderr: `relaunchWithoutDawnWarnings()` runs it again as a child whose stderr passes through
 * `DawnWarningFilter`.
 */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

const PREFIX = 'Warning: maxDynamic';

/** Set in the child's environment: the filter is in place, so the child runs the program itself. */
export const DAWN_FILTERED_ENV = 'WEBRNN_STDERR_FILTERED';

/**
 * Drops Dawn's two warning lines from a byte stream and passes everything else on as it comes: a partial line is
 * held back only while it could still become one of them, so a progress line without a newline is not delayed.
 */
export class DawnWarningFilter {
  private pending = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: Uint8Array): void {
    this.pending += this.decoder.decode(chunk, { stream: true });
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (!DAWN_LIMIT_WARNING.test(line)) this.write(`${line}\n`);
      nl = this.pending.indexOf('\n');
    }
    if (this.pending !== '' && !couldBeWarning(this.pending)) {
      this.write(this.pending);
      this.pending = '';
    }
  }

  /** The end of the stream: what is held back was not a whole warning line, so it is passed on. */
  end(): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest !== '') this.write(rest);
  }
}

function couldBeWarning(partial: string): boolean {
  return partial.length <= PREFIX.length ? PREFIX.startsWith(partial) : partial.startsWith(PREFIX);
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * For a Node program's entry point: run this program again as a child with the same Node flags and arguments,
 * its stdin and stdout inherited and its stderr without Dawn's two adapter warnings, and end with the child's
 * exit code (or signal). Returns true here, in the parent, which must then do nothing else; false where the
 * program should run itself: in that child, outside Node, or with `WEBRNN_VERBOSE=1` (which shows the lines).
 *
 *     if (!relaunchWithoutDawnWarnings()) await main();
 *
 * The child gets its own session (`detached`), so a terminal's Ctrl-C reaches it once, forwarded from here,
 * rather than twice (to a training loop a second SIGINT often means "quit at once").
 */
export function relaunchWithoutDawnWarnings(): boolean {
  const cp = nodeBuiltin('node:child_process');
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (!cp || !proc || nodeEnv(DAWN_FILTERED_ENV) === '1' || nodeEnv('WEBRNN_VERBOSE') === '1') return false;
  const child = cp.spawn(proc.execPath, [...proc.execArgv, ...proc.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...proc.env, [DAWN_FILTERED_ENV]: '1' },
    detached: true,
  });
  const filter = new DawnWarningFilter((text) => proc.stderr.write(text));
  child.stderr!.on('data', (chunk: Uint8Array) => filter.push(chunk));
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of FORWARDED) proc.on(s, forward);
  // If this process ends first (an uncaught error here), the child must not run on unseen.
  const orphaned = () => child.kill('SIGKILL');
  proc.on('exit', orphaned);
  child.on('error', (e) => {
    proc.off('exit', orphaned);
    proc.stderr.write(
      `error: could not start ${proc.argv[1]} again behind the stderr filter: ${e.message}\n`,
    );
    proc.exit(1);
  });
  // 'close' comes after the child's stderr has ended, so every line is out before this process exits.
  child.on('close', (code, signal) => {
    filter.end();
    proc.off('exit', orphaned);
    for (const s of FORWARDED) proc.off(s, forward);
    if (signal) {
      // End the way the child did, so a shell sees the same status (130 for SIGINT, ...).
      proc.kill(proc.pid, signal);
      // A signal Node ignores (SIGPIPE) would leave this process running: the shell's status for it instead.
      const n = nodeBuiltin('node:os')?.constants.signals[signal] ?? 0;
      setTimeout(() => proc.exit(128 + n), 200).unref();
      return;
    }
    proc.exit(code ?? 1);
  });
  return true;
}
