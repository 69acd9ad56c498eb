let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Run `fn` without recording anything on the tape (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Run `fn` with recording forced on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
