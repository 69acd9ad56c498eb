/// <reference types="@webgpu/types" />
import { STATUS_WORDS, canonical } from '@webrnn/kernels';
import { type DeviceCheck, WebrnnError, deviceCheckError } from '../../errors.js';

const STATUS = 0x0080 | 0x0004 | 0x0008; // STORAGE | COPY_SRC | COPY_DST

export const STATUS_BYTES = STATUS_WORDS * 4;

interface Entry {
  readonly key: string;
  readonly check: DeviceCheck;
  /** Serial of the last launch that used it. */
  lastUse: number;
}

/**
 * The host side of device-side errors (kernels' status.ts): the status buffer checked kernels write into, and the
 * descriptions their launches registered, by id. Descriptions are interned (equal ones share an id), so a training
 * loop that launches the same checks again and again without reading keeps one entry each; an entry is dropped
 * once a read has covered every launch that used it (the read copies and clears the status in the same
 * submission, so no later read can report those launches).
 */
export class DeviceChecks {
  readonly buffer: GPUBuffer;
  private readonly byKey = new Map<string, number>();
  private readonly entries = new Map<number, Entry>();
  private nextId = 0;
  private launches = 0;
  /** Reads submitted and not yet finished, in submission order, with the launch serial each covers. */
  private readonly reads: { serial: number; done: boolean }[] = [];

  constructor(device: GPUDevice) {
    this.buffer = device.createBuffer({ size: STATUS_BYTES, usage: STATUS });
  }

  /** Descriptions held now (for the test that the table stays bounded). */
  get size(): number {
    return this.entries.size;
  }

  /** The id a launch recorded now passes to its kernel. */
  id(check: DeviceCheck): number {
    const key = canonical(check);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.nextId;
      // Word 0 holds id + 1 as a u32; ids wrap long before that matters (2^31 distinct descriptions).
      this.nextId = (this.nextId + 1) % 0x7fffffff;
      this.byKey.set(key, id);
      this.entries.set(id, { key, check, lastUse: 0 });
    }
    this.entries.get(id)!.lastUse = ++this.launches;
    return id;
  }

  /** A read is being submitted: it reports the launches recorded so far. */
  beginRead(): { serial: number; done: boolean } {
    const read = { serial: this.launches, done: false };
    this.reads.push(read);
    return read;
  }

  /**
   * The read finished with the status `words` (null when it failed before they arrived): drop the descriptions
   * every finished read has covered, then throw the error the words report, if any.
   */
  endRead(read: { serial: number; done: boolean }, words: Uint32Array | null): void {
    read.done = true;
    const reported = words && words[0]! !== 0 ? this.entries.get(words[0]! - 1) : undefined;
    let covered = -1;
    while (this.reads[0]?.done) covered = this.reads.shift()!.serial;
    if (covered >= 0) {
      for (const [id, e] of this.entries) {
        if (e.lastUse <= covered) {
          this.entries.delete(id);
          this.byKey.delete(e.key);
        }
      }
    }
    if (!words || words[0] === 0) return;
    const failure = { value: words[1]! | 0, position: words[2]!, extent: words[3]! };
    if (!reported) {
      throw new WebrnnError(
        'webgpu',
        `a kernel reported bad input (value ${failure.value}) for an unknown launch`,
      );
    }
    throw deviceCheckError(reported.check, failure);
  }
}
