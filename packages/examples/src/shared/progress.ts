/**
 * Training progress without flooding the terminal: on a TTY one line rewritten in place, otherwise a line every
 * few seconds, and always the last one.
 */
export class Progress {
  private readonly start = performance.now();
  private lastPrint = 0;
  private readonly tty = Boolean(process.stdout.isTTY);

  constructor(
    private readonly total: number,
    private readonly label = 'iteration',
  ) {}

  update(iteration: number, loss: number): void {
    const now = performance.now();
    const last = iteration === this.total;
    if (!last && now - this.lastPrint < (this.tty ? 200 : 3000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const line = `${this.label} ${String(iteration).padStart(String(this.total).length)}/${this.total}  loss ${loss.toExponential(3)}  ${(iteration / elapsed).toFixed(2)} it/s  ${elapsed.toFixed(1)} s`;
    if (this.tty) process.stdout.write(`\r${line}${last ? '\n' : ''}`);
    else console.log(line);
  }

  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}
