/**
 * What one host allocation may take, for refusing a tensor before allocating it (a typed array past these limits
 * throws a bare RangeError, or, since pages are committed lazily, succeeds and gets the process killed when it is
 * filled). Node-only APIs are reached through `process` at call time, so this module loads in a browser too.
 */

/** The longest typed array V8 (Node, Chrome) creates: 2^32 elements. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32;

interface NodeProcess {
  availableMemory?: () => number;
  constrainedMemory?: () => number;
  getBuiltinModule?: (name: string) => { totalmem?: () => number } | undefined;
}

/**
 * Bytes this process can expect to allocate: in Node the memory available now (or the machine's total, on
 * versions without process.availableMemory), bounded by a cgroup limit; elsewhere unknown (Infinity).
 */
export function hostMemoryBytes(): number {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc) return Number.POSITIVE_INFINITY;
  const available = proc.availableMemory?.() ?? proc.getBuiltinModule?.('node:os')?.totalmem?.();
  const constrained = proc.constrainedMemory?.();
  const limits = [available, constrained].filter((v): v is number => typeof v === 'number' && v > 0);
  return limits.length > 0 ? Math.min(...limits) : Number.POSITIVE_INFINITY;
}
