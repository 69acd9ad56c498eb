import type { Uniforms } from './uniforms.js';

/**
 * A kernel is made from a spec: a small plain object naming everything its WGSL depends on. The source and the
 * cache key come from the same spec (the key is its canonical JSON), so they can never disagree; launch values
 * (shapes, strides, offsets, scalars) are never in the spec but in the uniform block, so one pipeline serves every
 * shape of its specialisation.
 */
export type ScalarType = 'f32' | 'i32';

/** How each binding of group 0 is declared: the runtime builds the bind group layout from this list. */
export type BindingKind = 'read' | 'read_write' | 'uniform';

export interface Kernel {
  /** The cache key: canonical JSON of the spec the code was made from. */
  readonly key: string;
  readonly code: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  /** Binding i of group 0 is declared as bindings[i]; the last is always the uniform block. */
  readonly bindings: readonly BindingKind[];
  /** The uniform block's layout: packs a launch's values in the order the code reads them. */
  readonly uniforms: Uniforms;
  /** Device features the code needs, e.g. 'subgroups'. */
  readonly features: readonly string[];
}

/** Canonical JSON: object keys sorted, so equal specs give equal keys whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Every kernel spec names its family; the rest is family-specific. */
export interface Spec {
  readonly kind: string;
}

/** What a family's emitter returns; `defineKernel` adds the key. */
export type KernelSource = Omit<Kernel, 'key' | 'entryPoint' | 'features'> & {
  readonly features?: readonly string[];
};

/** Build a kernel from its spec with `emit`; the key is derived from the spec alone. */
export function defineKernel<S extends Spec>(spec: S, emit: (spec: S) => KernelSource): Kernel {
  return { key: canonical(spec), entryPoint: 'main', features: [], ...emit(spec) };
}
