import {
  type DType,
  type DeviceName,
  Storage,
  Tensor,
  WebrnnError,
  getBackend,
  keep,
  typedArrayFor,
} from './deps.js';

/**
 * Re-home tensors into one new flat storage, in order, keeping their identity (every module and optimiser
 * holding them sees the move). Returns a 1-D tensor over the whole storage.
 */
export function flattenInto(params: readonly Tensor[], pick: (p: Tensor) => Tensor): Tensor {
  const first = pick(params[0]!);
  let total = 0;
  for (const p of params) {
    const t = pick(p);
    if (t.dtype !== first.dtype || t.device !== first.device) {
      throw new WebrnnError(
        'getParameters',
        `parameters must share one dtype and device, found ${first.dtype} on ${first.device} and ${t.dtype} on ${t.device}`,
      );
    }
    total += t.size;
  }
  const storage = Storage.alloc(first.backend, first.dtype, total);
  let offset = 0;
  for (const p of params) {
    const t = pick(p);
    t.rebind(storage, offset);
    offset += t.size;
  }
  return keep(new Tensor(storage, [total]));
}

/** Move `t` to another device and/or dtype in place (same identity). */
export function moveTensor(t: Tensor, device: DeviceName, dtype: DType): void {
  if (t.device === device && t.dtype === dtype) return;
  const backend = getBackend(device);
  const storage = Storage.alloc(backend, dtype, t.size);
  if (t.device === device) {
    t.rebind(storage, 0);
  } else {
    if (!t.backend.canReadSync) {
      throw new WebrnnError(
        'to',
        `cannot read ${t.device} tensors synchronously; move parameters before training`,
      );
    }
    const data = t.dataSync();
    const converted = typedArrayFor(dtype, data.length);
    converted.set(data);
    backend.write(storage.buffer, converted);
    t.rebind(storage, 0, false);
  }
  storage.release(); // the tensor took its own hold
}
