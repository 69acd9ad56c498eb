/**
 * A kernel is made from a spec: a plain object naming everything the WGSL source depends on. The source and the
 * cache key come from the same spec (the key is its canonical JSON), so they can never disagree.
 */
export type ScalarType = 'f32' | 'i32';

export interface Kernel {
  /** The cache key: canonical JSON of the spec. */
  readonly key: string;
  readonly code: string;
  /** Threads per workgroup along x (1-D kernels) or the workgroup shape. */
  readonly workgroupSize: readonly [number, number, number];
}

/** Canonical JSON: object keys sorted, so equal specs give equal keys whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Build a kernel from its spec with `emit`; the key is derived from the spec alone. */
export function kernel<S extends { readonly kind: string }>(
  spec: S,
  emit: (spec: S) => { code: string; workgroupSize: readonly [number, number, number] },
): Kernel {
  return { key: canonical(spec), ...emit(spec) };
}
