import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * Dawn's two lines at adapter discovery on drivers that report more dynamic buffers than WebGPU allows (Mesa's
 * lavapipe says 1,000,000): C++ writes them straight to file descriptor 2 with fprintf, whatever limits we ask
 * for, and Dawn offers no switch or callback to silence them. A library cannot hide them safely (Node has no
 * dup2: closing and reopening the user's stderr races with other threads and loses it on a failure), but a
 * program owns its stderr: it runs itself as a child whose stderr passes through `DawnWarningFilter`.
 */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

const PREFIX = 'Warning: maxDynamic';

/** Set in the child's environment: the filter is in place, so the child runs the program itself. */
export const FILTERED_MARK = 'WEBRNN_STDERR_FILTERED';

/**
 * Whether `run()` should relaunch the program behind the filter: not in the child itself, not with --verbose
 * (or WEBRNN_VERBOSE=1, which shows Dawn's lines), and not when Dawn is never loaded (--backend cpu, --help).
 */
export function wantsDawnFilter(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env[FILTERED_MARK] === '1' || env.WEBRNN_VERBOSE === '1') return false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--verbose' || a === '--help' || a === '-h') return false;
    if (a === '--backend=cpu' || (a === '--backend' && argv[i + 1] === 'cpu')) return false;
  }
  return true;
}

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

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Run this program again as a child with the same Node flags and arguments, its stdin and stdout inherited and its
 * stderr filtered, and end with the child's exit code (or signal). The child gets its own session (`detached`),
 * so a terminal's Ctrl-C reaches it once, forwarded from here, rather than twice (a second SIGINT means "quit at
 * once" to the training loops).
 */
export function relaunchWithDawnFilter(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [FILTERED_MARK]: '1' },
    detached: true,
  });
  const filter = new DawnWarningFilter((text) => process.stderr.write(text));
  child.stderr!.on('data', (chunk: Buffer) => filter.push(chunk));
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  // If this process ends first (an uncaught error here), the child must not run on unseen.
  const orphaned = () => child.kill('SIGKILL');
  process.on('exit', orphaned);
  child.on('error', (e) => {
    process.off('exit', orphaned);
    console.error(`error: could not start ${process.argv[1]} again behind the stderr filter: ${e.message}`);
    process.exit(1);
  });
  // 'close' comes after the child's stderr has ended, so every line is out before this process exits.
  child.on('close', (code, signal) => {
    filter.end();
    process.off('exit', orphaned);
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) {
      // End the way the child did, so a shell sees the same status (130 for SIGINT, ...).
      process.kill(process.pid, signal);
      // A signal Node ignores (SIGPIPE) would leave this process running: the shell's status for it instead.
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 200).unref();
      return;
    }
    process.exit(code ?? 1);
  });
}
