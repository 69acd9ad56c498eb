/** The core API as the modules use it (one import site keeps the dependency on @webrnn/core visible). */
export * from '@webrnn/core';
import type { Tensor } from '@webrnn/core';

export function fmtShapeOf(t: Tensor): string {
  return `[${t.shape.join(', ')}]${t.dtype === 'float32' ? '' : ` ${t.dtype}`}`;
}
