import type { BindingKind, ScalarType } from './spec.js';
import type { Uniforms } from './uniforms.js';

/**
 * The WGSL every kernel shares, so that no kernel repeats it: storage declarations (with the element type aliased
 * as `T`), the uniform block, the flat thread index of 1-D kernels and the walk from a flat index to strided
 * offsets.
 */

/** Threads per workgroup of the 1-D kernels. */
export const WG = 256;

export interface StorageDecl {
  readonly name: string;
  readonly type: string;
  readonly write?: boolean;
}

/**
 * Declarations for `storage` at bindings 0..n-1 followed by the uniform block at binding n, and the matching
 * binding kinds for the pipeline layout.
 */
export function declare(
  storage: readonly StorageDecl[],
  uniforms: Uniforms,
): { code: string; bindings: BindingKind[] } {
  const decls = storage.map(
    (s, i) =>
      // Stryker disable next-line StringLiteral: equivalent for 'read' emptied (`var<storage, >` is `var<storage>`, read-only by default: WGSL allows the trailing comma); the other strings emptied fail the tests (killed before marking)
      `@group(0) @binding(${i}) var<storage, ${s.write ? 'read_write' : 'read'}> ${s.name}: array<${s.type}>;`,
  );
  decls.push(uniforms.decl(storage.length));
  return {
    code: lines(decls),
    bindings: [...storage.map((s): BindingKind => (s.write ? 'read_write' : 'read')), 'uniform'],
  };
}

/**
 * Operands that live in the same buffer as an earlier operand, each mapped to that earlier one (a sequence layer
 * writes step t beside the step t-1 it reads). WebGPU forbids binding one buffer twice in a dispatch when a
 * binding writes, so such operands are read and written through the earlier operand's binding, at their own
 * offsets: a kernel spec carries this map, `sharedStorage` declares the bindings, and the launch passes the
 * buffers of the operands without an entry.
 */
export function bufferAliases(
  names: readonly string[],
  bufferOf: (name: string) => object,
): Record<string, string> {
  const aliases: Record<string, string> = {};
  names.forEach((name, k) => {
    const first = names.slice(0, k).find((m) => !aliases[m] && bufferOf(m) === bufferOf(name));
    // Stryker disable next-line ConditionalExpression: equivalent: an entry set to undefined reads as no alias everywhere (`??`, `!`, and canonical() drops undefined values from the key)
    if (first) aliases[name] = first;
  });
  return aliases;
}

/**
 * f32 storage declarations for named operands (the first `writes` written), one per buffer: an aliased operand
 * has no binding of its own and is read and written through its alias's.
 */
export function sharedStorage(
  names: readonly string[],
  writes: number,
  aliases: Readonly<Record<string, string>> = {},
): StorageDecl[] {
  // The written operands come first, so an operand aliased to a written one's binding comes after it: a binding is
  // written exactly when its own operand is.
  // Stryker disable next-line MethodExpression: equivalent: every binding declared read_write is valid too (no buffer is bound twice: bufferAliases), only the access mode differs
  const written = new Set(names.slice(0, writes));
  return names
    .filter((name) => !aliases[name])
    .map((name) => ({ name, type: 'f32', write: written.has(name) }));
}

/** WGSL statements, one a line. */
// Stryker disable next-line StringLiteral: equivalent: every statement ends with ';' or '}', line breaks are layout
export const lines = (parts: readonly string[]): string => parts.join('\n');

/** `alias T = ...;` for kernels written over the element type. */
export const alias = (type: ScalarType): string => `alias T = ${type};`;

/**
 * Entry point of a 1-D kernel: `tid` is the flat thread index (dispatched as a 2-D grid, since WebGPU caps each
 * grid dimension at 65535 workgroups).
 */
export function entry1d(body: string): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let tid = gid.x + gid.y * nwg.x * ${WG}u;
${body}
}`;
}

/** Workgroup counts for `threads` threads in groups of `wg`, folded into 2-D past 65535 groups. */
export function grid(threads: number, wg = WG): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / wg));
  // One row of groups (y = 1) up to 65535 groups.
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

export interface WalkOperand {
  /** Name of the i32 offset variable to accumulate into (declared by the walk). */
  readonly offset: string;
  /** WGSL expression of the starting offset. */
  readonly base: string;
  /** WGSL expression of the stride of dimension d. */
  readonly stride: (d: number) => string;
}

/**
 * Offsets of the element at flat row-major index `index` of a `rank`-D shape, for every operand: peels the
 * coordinates from the innermost dimension out, each scaled by the operand's stride (0 for broadcast dims).
 */
export function walk(
  index: string,
  rank: number,
  size: (d: number) => string,
  operands: readonly WalkOperand[],
): string {
  const out = operands.map((o) => `  var ${o.offset} = ${o.base};`);
  out.push(`  var rem = ${index};`);
  for (let d = rank - 1; d >= 0; d--) {
    const last = d === 0;
    out.push(
      `  { let c = i32(${last ? 'rem' : `rem % ${size(d)}`});${last ? '' : ` rem = rem / ${size(d)};`}`,
    );
    for (const o of operands) out.push(`    ${o.offset} += c * ${o.stride(d)};`);
    out.push('  }');
  }
  return lines(out);
}
