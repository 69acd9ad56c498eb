import { type TypedArray, WebrnnError, typedArrayFor } from '../module/deps.js';
import { sha256, verifyTensor } from './checksum.js';
import { nodeFs, requireNodeFiles } from './nodeFiles.js';
import { type HostTensor, LITTLE_ENDIAN, fromLittleEndian } from './safetensors.js';
import { type ParsedHeader, type TensorEntry, headerLength, parseHeader } from './safetensorsHeader.js';

/**
 * Reading a .safetensors file in pieces (Node): the header first, checked whole against the file's size, then
 * each tensor from its offset with file-handle reads, straight into its typed array. Memory is the tensors read,
 * never the file, so files over 2 GiB (beyond one Node buffer) load, and tensors a load does not use are not
 * read at all (nor, then, checked against their checksums).
 */

/** One read call reads at most this much (Node refuses reads over 2 GiB - 1). */
const CHUNK = 1 << 30;
export interface SafetensorsFile {
  readonly header: ParsedHeader;
  /** A tensor's values, checked against its checksum when the file declares checksums. */
  read(entry: TensorEntry): Promise<HostTensor>;
  close(): Promise<void>;
}

export async function openSafetensors(path: string, op: string): Promise<SafetensorsFile> {
  requireNodeFiles(op, path);
  const { open } = await nodeFs();
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new WebrnnError(op, `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const readAt = async (into: Uint8Array, position: number): Promise<void> => {
      for (let done = 0; done < into.length; ) {
        const n = Math.min(CHUNK, into.length - done);
        const { bytesRead } = await fh.read(into, done, n, position + done);
        if (bytesRead === 0) {
          throw new WebrnnError(
            op,
            `${path}: the file ended at byte ${position + done} (changed while read?)`,
          );
        }
        done += bytesRead;
      }
    };
    const first = new Uint8Array(Math.min(8, size));
    await readAt(first, 0);
    const n = headerLength(first, size, path, op);
    const headerBytes = new Uint8Array(n);
    await readAt(headerBytes, 8);
    const header = parseHeader(headerBytes, size, path, op);
    return {
      header,
      async read(e) {
        const count = e.shape.reduce((a, b) => a * b, 1);
        const out: TypedArray = typedArrayFor(e.dtype, LITTLE_ENDIAN ? count : 0);
        const raw = LITTLE_ENDIAN ? new Uint8Array(out.buffer) : new Uint8Array(e.end - e.begin);
        await readAt(raw, header.dataStart + e.begin);
        if (header.checksums) {
          const h = sha256();
          for (let at = 0; at < raw.length; at += CHUNK) h.update(raw.subarray(at, at + CHUNK));
          verifyTensor(header.checksums, e.name, h.digest('hex'), path, op);
        }
        // Read in place on little-endian hosts (all in practice); converted from the raw bytes elsewhere.
        return { dtype: e.dtype, shape: e.shape, data: LITTLE_ENDIAN ? out : fromLittleEndian(raw, e.dtype) };
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
