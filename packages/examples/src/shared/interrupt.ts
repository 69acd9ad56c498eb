/**
 * Ctrl-C (SIGINT) or SIGTERM during a long training loop: the first asks the loop to stop after the iteration in
 * progress, so that the program still writes its checkpoint, plots and summary; a second one exits at once. The
 * loop reads `requested`; `dispose()` gives the signals back to Node's default handling.
 */
export interface StopRequest {
  readonly requested: boolean;
  dispose(): void;
}

/**
 * Give a pending signal its turn: a training loop on the CPU awaits only promises that settle as microtasks, and
 * Node delivers a real SIGINT from the event loop, so without this turn the handler would not run before the loop
 * ends (process.emit in a test calls it directly and would not notice). Await it once per iteration.
 */
export function signalsTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function stopOnSignal(what: string): StopRequest {
  let requested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) process.exit(signal === 'SIGINT' ? 130 : 143);
    requested = true;
    console.log(`\n${signal}: stopping ${what} after this iteration (again to quit at once)`);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, onSignal);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
