/**
 * Training progress that does not flood the terminal: on a TTY one line rewritten in place (\r) at most ten
 * times a second; in a log (not a TTY) a line every `every` iterations, or about once a second when `every` is
 * not given. The first and the last iteration are always shown.
 */
export interface ProgressOptions {
  /** Print every this many iterations when not on a TTY (default: about once a second). */
  readonly every?: number;
  /** Where to write (default process.stdout). */
  readonly stream?: NodeJS.WriteStream;
  /** Iterations done before this run (a resumed one): the rate counts only this run's. */
  readonly first?: number;
}

export class Progress {
  private readonly start = performance.now();
  private lastPrint = -Infinity;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly every: number | undefined;
  private readonly first: number;

  constructor(
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stdout;
    this.tty = Boolean(this.stream.isTTY);
    this.every = options.every;
    this.first = options.first ?? 0;
  }

  /** Report iteration `iteration` (1-based) and its loss. */
  update(iteration: number, loss: number): void {
    const now = performance.now();
    const edge = iteration === this.first + 1 || iteration === this.total;
    const due = this.tty
      ? now - this.lastPrint >= 100
      : this.every
        ? iteration % this.every === 0
        : now - this.lastPrint >= 1000;
    if (!edge && !due) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const rate = (iteration - this.first) / Math.max(elapsed, 1e-9);
    const eta = (this.total - iteration) / rate;
    const width = String(this.total).length;
    const line =
      `iteration ${String(iteration).padStart(width)}/${this.total}  loss ${loss.toExponential(3)}  ` +
      `${rate.toFixed(1)} it/s  ${elapsed.toFixed(1)} s` +
      (iteration < this.total ? `  (eta ${eta.toFixed(0)} s)` : '');
    if (this.tty) this.stream.write(`\r${line}\x1b[K${iteration === this.total ? '\n' : ''}`);
    else this.stream.write(`${line}\n`);
  }

  /** Seconds since the progress started. */
  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}
