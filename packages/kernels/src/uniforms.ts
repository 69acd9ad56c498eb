/**
 * A kernel's uniform block, declared once by field name and length: the same object gives the WGSL expressions the
 * kernel reads (`at`, `f32`) and packs a launch's values in that layout (`pack`), so the two cannot drift apart.
 * Fields are i32 words (f32 fields travel as bit patterns) in `array<vec4i, N>`, the 16-byte-strided array that
 * uniform buffers require.
 */
export type FieldValues = Readonly<Record<string, number | readonly number[]>>;

const f32Bits = new Float32Array(1);
const i32View = new Int32Array(f32Bits.buffer);

export class Uniforms {
  private readonly offsets = new Map<string, { at: number; length: number; float: boolean }>();
  /** Words in the block. */
  readonly words: number;

  /** `fields` maps name to length; names listed in `floats` hold f32 values. */
  // Stryker disable next-line ArrayDeclaration: equivalent: a stray name in the default list names no field
  constructor(fields: Readonly<Record<string, number>>, floats: readonly string[] = []) {
    let at = 0;
    for (const [name, length] of Object.entries(fields)) {
      this.offsets.set(name, { at, length, float: floats.includes(name) });
      at += length;
    }
    this.words = Math.max(4, Math.ceil(at / 4) * 4);
  }

  private slot(name: string, i: number): number {
    const f = this.offsets.get(name);
    if (!f || i < 0 || i >= f.length) throw new Error(`uniform ${name}[${i}] is not declared`);
    return f.at + i;
  }

  /** WGSL i32 expression for element `i` of field `name`. */
  at(name: string, i = 0): string {
    const s = this.slot(name, i);
    return `u.v[${s >> 2}].${'xyzw'[s & 3]}`;
  }

  /** WGSL i32 expression for element `index` (a WGSL expression) of field `name`, for loops over dims. */
  atDynamic(name: string, index: string): string {
    const at = this.slot(name, 0);
    return `u.v[(${at} + ${index}) / 4][(${at} + ${index}) % 4]`;
  }

  /** WGSL u32 expression (sizes and counts are never negative). */
  u(name: string, i = 0): string {
    return `u32(${this.at(name, i)})`;
  }

  /** WGSL f32 expression for a float field. */
  f32(name: string, i = 0): string {
    return `bitcast<f32>(${this.at(name, i)})`;
  }

  /** The declaration of the block at `binding` (variable `u`). */
  decl(binding: number): string {
    return `struct Uniforms { v: array<vec4i, ${this.words / 4}> }
@group(0) @binding(${binding}) var<uniform> u: Uniforms;`;
  }

  /** Pack `values` (every declared field, arrays for fields longer than 1) into `into` at word `at`. */
  pack(values: FieldValues, into: Int32Array = new Int32Array(this.words), at = 0): Int32Array {
    for (const [name, f] of this.offsets) {
      const v = values[name];
      if (v === undefined) throw new Error(`uniform ${name} has no value`);
      const list = typeof v === 'number' ? [v] : v;
      if (list.length !== f.length)
        throw new Error(`uniform ${name} needs ${f.length} values, got ${list.length}`);
      for (let i = 0; i < f.length; i++) {
        if (f.float) {
          f32Bits[0] = list[i]!;
          into[at + f.at + i] = i32View[0]!;
        } else into[at + f.at + i] = list[i]!;
      }
    }
    return into;
  }
}
