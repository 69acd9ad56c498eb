import { Tensor, WebrnnError, keep, noGrad } from '../module/deps.js';
import type { HostTensor } from './safetensors.js';

/**
 * A consistent copy of tensors taken at one instant, read later. A save must not depend on when its awaits
 * resume: training steps that run in between would otherwise land in the file (a torn checkpoint). On a backend
 * that reads synchronously (the CPU) the values are copied now; elsewhere (WebGPU) a device copy is recorded now,
 * ahead of any later work on the queue, so in-place updates made after the call cannot reach it.
 */
export interface Snapshot {
  /** The host values; call once. Releases the device copies whether it succeeds or fails. */
  read(): Promise<Record<string, HostTensor>>;
  /** Free the device copies without reading them (a save that failed before reading). */
  release(): void;
}

type Entry = { readonly host: HostTensor } | { readonly copy: Tensor };

export function snapshot(tensors: Iterable<readonly [string, Tensor]>, op: string): Snapshot {
  const entries = new Map<string, Entry>();
  try {
    for (const [name, t] of tensors) {
      if (!(t instanceof Tensor)) {
        throw new WebrnnError(op, `'${name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
      }
      t.assertAlive(op);
      if (t.backend.canReadSync) {
        entries.set(name, { host: { dtype: t.dtype, shape: [...t.shape], data: t.dataSync() } });
      } else {
        // kept: a save called inside a tidy must not lose its copies when that tidy ends.
        entries.set(name, { copy: keep(noGrad(() => t.clone())) });
      }
    }
  } catch (e) {
    release(entries);
    throw e;
  }
  let used = false;
  return {
    async read() {
      if (used) throw new Error('snapshot read twice');
      used = true;
      try {
        const out: Record<string, HostTensor> = {};
        const reads = [...entries].map(async ([name, e]) => {
          out[name] =
            'host' in e
              ? e.host
              : { dtype: e.copy.dtype, shape: [...e.copy.shape], data: await e.copy.data() };
        });
        await Promise.all(reads);
        // In the order given (the header's order), not the order the reads finished.
        return Object.fromEntries([...entries.keys()].map((n) => [n, out[n]!]));
      } finally {
        release(entries);
      }
    },
    release() {
      used = true;
      release(entries);
    },
  };
}

function release(entries: Map<string, Entry>): void {
  for (const e of entries.values()) if ('copy' in e && !e.copy.isDisposed) e.copy.dispose();
}
