import { wgslCellExpr } from './cellWgsl.js';
import { CELLS, CELL_SLICES, type CellToken, parseCell } from './cells.js';
import { withNumerics } from './numerics.js';
import { type Kernel, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { declare, lines } from './wgsl.js';

/**
 * A persistent LSTM layer forward: one workgroup per sample n loops over all T steps, with the recurrent input
 * (h, or the projection's r) of the step before in workgroup memory, instead of a matmul, an add and a cell
 * dispatch per step. Each thread owns units j = lid, lid + WG, ... (any H, however many threads the adapter
 * allows), so its cell state needs no sharing: it reads c(t-1) back from the cs it wrote itself.
 *
 * The cell's maths is lstmCell's statements from the cell table (cells.ts), with `gates[s]` read from the
 * pre-activations this kernel sums and `cPrev` from c(t-1); the saved `act` is written as the table says, so
 * lstmSequence's per-step backward runs on this forward's outputs unchanged.
 *
 * Bindings: out [T,N,R], cs [T,N,H], act [T,N,4H], hs [T,N,H] (projection only; the cell's h before Wo), gx
 * [T,N,4H], wh [R,4H], h0 [N,R], c0 [N,H], keep [T,N,1] (optional), wo [H,R] (optional). Written ones are
 * dense at an offset; read ones are strided views (strides and offsets in the uniforms).
 */
export interface LstmPersistentSpec extends Spec {
  readonly kind: 'lstmPersistent';
  /** Threads per workgroup. */
  readonly wg: number;
  /** Capacity (floats) of each half of the double-buffered recurrent input, >= R. */
  readonly capR: number;
  /** Capacity of the cell-h buffer the projection reads, >= H; 0 without projection. */
  readonly capH: number;
  readonly keep: boolean;
  readonly projection: boolean;
  /**
   * Read wh as vec4 (each thread four adjacent units, one 16-byte load per gate and k instead of four): wh's
   * units contiguous (stride 1), its offset and row stride multiples of 4, and H a multiple of 4.
   */
  readonly vec4: boolean;
}

const WRITES = ['out', 'cs', 'act', 'hs'] as const;
const READS = ['gx', 'wh', 'h0', 'c0', 'keep', 'wo'] as const;
const STRIDED: Readonly<Record<string, number>> = { gx: 3, wh: 2, h0: 2, c0: 2, keep: 2, wo: 2 };

const UNIFORMS = new Uniforms({
  T: 1,
  N: 1,
  H: 1,
  R: 1,
  gate: 4,
  ...Object.fromEntries(WRITES.map((n) => [`${n}Offset`, 1])),
  ...Object.fromEntries(READS.flatMap((n) => [[`${n}Offset`, 1] as const, [`${n}Strides`, STRIDED[n]!]])),
});

/** One line per LSTM gate slice (i z f o). */
const perSlice = (line: (slice: string, k: number) => string): string => lines(CELL_SLICES.lstm.map(line));

/** The operand names a spec binds, in binding order (absent optional ones left out). */
export function lstmPersistentOperands(spec: Pick<LstmPersistentSpec, 'keep' | 'projection'>): string[] {
  // Stryker disable next-line ArrayDeclaration: equivalent where a branch's [] gets a stray name no operand has; its ['hs', 'wo'] and ['keep'] emptied fail the tests (killed before marking)
  const skip = new Set([...(spec.projection ? [] : ['hs', 'wo']), ...(spec.keep ? [] : ['keep'])]);
  return [...WRITES, ...READS].filter((n) => !skip.has(n));
}

/** Floats of workgroup memory a spec uses (its recurrent double buffer and the projection's h). */
export const lstmPersistentSharedFloats = (s: Pick<LstmPersistentSpec, 'capR' | 'capH'>): number =>
  2 * s.capR + s.capH;

export interface LstmPersistentView {
  readonly offset: number;
  readonly strides: readonly number[];
}

/** Launch values: sizes, the gate blocks (in units of H, i z f o) and every operand's offset and strides. */
export function lstmPersistentValues(
  sizes: { T: number; N: number; H: number; R: number },
  gate: readonly number[],
  views: Readonly<Record<string, LstmPersistentView | null>>,
) {
  const v: Record<string, number | readonly number[]> = { ...sizes, gate };
  for (const n of WRITES) v[`${n}Offset`] = views[n]?.offset ?? 0;
  for (const n of READS) {
    const view = views[n];
    v[`${n}Offset`] = view?.offset ?? 0;
    v[`${n}Strides`] = view ? view.strides.slice(0, STRIDED[n]) : new Array(STRIDED[n]).fill(0);
  }
  return v;
}

/**
 * lstmCell's statements as WGSL inside the unit loop: `gates[s]` -> the summed pre-activation `a_s`, `cPrev` ->
 * `cPrev`, `act[s]` stored at the step's row, `h` and `c` kept as `out_h`, `out_c` for the masking after.
 */
function cellStatements(): string[] {
  const def = CELLS.lstmCell;
  // The mapping below knows these operands only: a change to the table must be carried here too.
  const names = [...Object.keys(def.writes), ...Object.keys(def.reads)].sort().join();
  if (names !== 'act,c,cPrev,gates,h')
    throw new Error(`lstmPersistent: lstmCell's operands changed (${names})`);
  const expr = (tokens: readonly CellToken[]) =>
    wgslCellExpr(tokens, (k) => {
      if (k.name === 'gates') return `a_${k.slice}`;
      if (k.name === 'cPrev') return 'cPrev';
      throw new Error(`lstmPersistent: lstmCell reads ${k.name}, which it does not map`);
    });
  return parseCell('lstmCell').map((st) => {
    if (!st.store) return `      let v_${st.to} = ${expr(st.expr)};`;
    if (st.to === 'act') return `      act[actRow + s_${st.slice} + j] = ${expr(st.expr)};`;
    return `      let out_${st.to} = ${expr(st.expr)};`;
  });
}

/** The persistent kernel of `spec` (see the file's comment). */
export function lstmPersistentKernel(spec: LstmPersistentSpec): Kernel {
  return defineKernel(spec, (s) => {
    const U = UNIFORMS;
    const whType = s.vec4 ? 'vec4<f32>' : 'f32';
    const names = lstmPersistentOperands(s);
    const writes = names.filter((n) => (WRITES as readonly string[]).includes(n));
    const { code, bindings } = declare(
      names.map((name) => ({ name, type: name === 'wh' ? whType : 'f32', write: writes.includes(name) })),
      U,
    );
    const i = (expr: string) => `i32(${expr})`;
    // Element of a strided read operand at the given coordinates (u32 expressions).
    const at = (name: string, ...coords: string[]) =>
      `${name}[u32(${[U.at(`${name}Offset`), ...coords.map((c, d) => `${i(c)} * ${U.at(`${name}Strides`, d)}`)].join(' + ')})]`;
    const off = (name: string) => U.u(`${name}Offset`);
    // The recurrent product of one unit j (scalar) or of units 4q..4q+3 (vec4), into a_<gate> (f32 or vec4f):
    // weight column offsets hoisted out of the k loop, a row stride added per k.
    const scalarDot = `${perSlice((sl) => `      var a_${sl} = ${at('gx', 't', 'n', `s_${sl} + j`)};`)}
${perSlice((sl) => `      let w_${sl} = ${U.at('whOffset')} + i32(s_${sl} + j) * ${U.at('whStrides', 1)};`)}
      var kr = 0;
      for (var k = 0u; k < R; k++) {
        let hv = rBuf[p + k];
${perSlice((sl) => `        a_${sl} += hv * wh[u32(w_${sl} + kr)];`)}
        kr += whRow;
      }`;
    const gx4 = (sl: string) =>
      `vec4f(${[0, 1, 2, 3].map((e) => at('gx', 't', 'n', `s_${sl} + j0 + ${e}u`)).join(', ')})`;
    const vec4Dot = `${perSlice((sl) => `      var acc_${sl} = ${gx4(sl)};`)}
${perSlice((sl) => `      let w_${sl} = (${U.at('whOffset')} + i32(s_${sl} + j0)) / 4;`)}
      let rowStep = whRow / 4;
      var kr = 0;
      for (var k = 0u; k < R; k++) {
        let hv = rBuf[p + k];
${perSlice((sl) => `        acc_${sl} += hv * wh[u32(w_${sl} + kr)];`)}
        kr += rowStep;
      }`;
    const keep = s.keep ? at('keep', 't', 'n') : '1.0';
    // Without a projection the (masked) h is the next step's recurrent input; with one, r = h Wo is.
    const store = s.projection
      ? `      hs[${off('hs')} + row + j] = hm;
      hCell[j] = hm;`
      : `      out[${off('out')} + row + j] = hm;
      rBuf[q + j] = hm;`;
    const project = s.projection
      ? `
    workgroupBarrier();
    for (var k = lid.x; k < R; k += ${s.wg}u) {
      var r = 0.0;
      for (var jj = 0u; jj < H; jj++) { r += hCell[jj] * ${at('wo', 'jj', 'k')}; }
      out[${off('out')} + (t * N + n) * R + k] = r;
      rBuf[q + k] = r;
    }`
      : '';
    // One unit's cell, state and stores, given its pre-activations a_<gate> and its index j.
    const unit = `      var cPrev: f32;
      if (t == 0u) { cPrev = ${at('c0', 'n', 'j')}; } else { cPrev = cs[${off('cs')} + row - N * H + j]; }
${lines(cellStatements())}
      let hm = out_h * km;
      cs[${off('cs')} + row + j] = out_c * km;
${store}`;
    const main = `var<workgroup> rBuf: array<f32, ${2 * s.capR}>;
${s.projection ? `var<workgroup> hCell: array<f32, ${s.capH}>;` : ''}

@compute @workgroup_size(${s.wg})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let T = ${U.u('T')};
  let N = ${U.u('N')};
  let H = ${U.u('H')};
  let R = ${U.u('R')};
  let n = wid.x;
  let whRow = ${U.at('whStrides', 0)};
${perSlice((sl, k) => `  let s_${sl} = ${U.u('gate', k)} * H;`)}
  for (var k = lid.x; k < R; k += ${s.wg}u) { rBuf[k] = ${at('h0', 'n', 'k')}; }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    // Read the half written last step, write the other: one barrier a step (two with a projection).
    let p = (t % 2u) * ${s.capR}u;
    let q = ${s.capR}u - p;
    let row = (t * N + n) * H;
    let actRow = ${off('act')} + 4u * row;
    let km = ${keep};
${unitLoop(s, s.vec4 ? vec4Dot : scalarDot, unit)}${project}
    workgroupBarrier();
  }
}`;
    return {
      code: withNumerics(`${code}\n\n${main}\n`),
      workgroupSize: [s.wg, 1, 1] as const,
      bindings,
      uniforms: U,
    };
  });
}

/** The loop over this thread's units: one unit a pass (scalar), or four adjacent ones from one vec4 product. */
function unitLoop(s: LstmPersistentSpec, dot: string, unit: string): string {
  if (!s.vec4) {
    return `    for (var j = lid.x; j < H; j += ${s.wg}u) {
${dot}
${unit}
    }`;
  }
  return `    for (var j0 = 4u * lid.x; j0 < H; j0 += ${4 * s.wg}u) {
${dot}
      for (var e = 0u; e < 4u; e++) {
        let j = j0 + e;
${perSlice((sl) => `        let a_${sl} = acc_${sl}[e];`)}
${unit}
      }
    }`;
}
