import type { StorageDecl } from './wgsl.js';

/**
 * Device-side errors (PyTorch's device asserts): a kernel that finds bad input (an index out of range, an integer
 * division by zero) cannot throw, so it records the error in a small status buffer that the runtime copies to the
 * host with the next read and turns into an exception there. A kernel spec that asks for checking (`check: true`)
 * declares the status buffer as its last storage binding and the uniform `check`, the id of a host-side
 * description of the launch (op, what the index addresses); the spec carries the flag, so source and cache key
 * agree.
 *
 * Words: [0] description id + 1 (0: no error), [1] the bad value (i32 bits), [2] its position, [3] the valid
 * extent (an index must lie in [0, extent)). The first error wins: word 0 is claimed by a compare-and-swap, and
 * only the thread that claims it writes the other words.
 */
export const STATUS_WORDS = 4;

/** The status buffer's storage declaration, to append to a checked kernel's bindings. */
export const statusStorage: StorageDecl = { name: 'status', type: 'atomic<u32>', write: true };

/** The uniform field a checked kernel reads its description id from. */
export const CHECK_FIELD = 'check';

/**
 * `raise(value, position, extent)`, reading the description id from `checkId` (a WGSL i32 expression). A weak
 * compare-and-swap may fail spuriously, so it retries while word 0 is still clear.
 */
export function raiseFn(checkId: string): string {
  return `fn raise(value: i32, position: i32, extent: i32) {
  loop {
    let r = atomicCompareExchangeWeak(&status[0], 0u, u32(${checkId}) + 1u);
    if (r.exchanged) {
      atomicStore(&status[1], bitcast<u32>(value));
      atomicStore(&status[2], u32(position));
      atomicStore(&status[3], u32(extent));
      break;
    }
    if (r.old_value != 0u) { break; }
  }
}`;
}
