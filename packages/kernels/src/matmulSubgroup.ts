import { type MatmulSpec, matmulDeclarations, matmulPrologue } from './matmulSpec.js';
import { lines } from './wgsl.js';

/**
 * The matmul for CPU adapters. On lavapipe or SwiftShader an invocation is a SIMD lane, and every load whose address
 * varies per invocation (from storage or workgroup memory alike) becomes a scalar load per lane, so loads, not
 * multiply-adds, set the speed, and workgroup-memory tiles only add loads and barriers. Here each subgroup of S
 * lanes computes a 2S x 4S block of C. Per 4-deep step of k each lane loads 8 values of A (its 2 rows, or vec4s of
 * rows) and 16 of B (its 4 columns), and the A values reach the other lanes by subgroupBroadcast, a register
 * shuffle: 32 S multiply-adds per 24 loaded values. Each accumulator then runs its 4 multiply-adds in a row, so
 * that it stays in a register (a CPU has 16 vector registers for the 64 accumulators; interleaving the chains
 * spilled every one of them, at half the speed). Measured on lavapipe (2 cores): about 3x the tiled kernel.
 *
 * Loads are specialised on each operand's layout: a vec4 along the contiguous dim ('k4', 'm4' for A; 'n4', 'k4' for
 * B; offsets and other strides must then be multiples of 4) or four scalars through the strides ('any').
 * A workgroup holds 8 subgroups, arranged as (8 / gridCols) x gridCols blocks; the runtime picks gridCols (a
 * uniform) to fit C's shape.
 */
export const SUBGROUPS_PER_WORKGROUP = 8;
/** Blocks of S rows per subgroup: 2 reuses each loaded B vec4 for 2S rows (measured ~15% over 1 on lavapipe). */
export const SUBGROUP_ROW_BLOCKS = 2;

export function emitSubgroup(s: MatmulSpec) {
  const S = s.subgroupSize ?? 8;
  const RB = s.rowBlocks ?? SUBGROUP_ROW_BLOCKS;
  const R = S * RB;
  const Q = S / 4;
  const G = SUBGROUPS_PER_WORKGROUP;
  const aVec = s.aLoad !== 'any';
  const bVec = s.bLoad !== 'any';
  const { U, bindings, head } = matmulDeclarations(s, aVec ? 'V' : 'T', bVec ? 'V' : 'T');
  const kClamp = (q: number | string) => `min(k0 + ${q}, K - 1)`;
  const vec = (f: (q: number) => string) => `V(${[0, 1, 2, 3].map(f).join(', ')})`;

  // Per k-step of 4 and block i of S rows: the lane's A values `a<i>`, and A's element (row r0 + r, depth
  // k0 + kk) as a broadcast from the lane that holds it.
  const blocks = [...Array(RB).keys()];
  let loadA: string;
  let aElem: (r: number, kk: number) => string;
  if (s.aLoad === 'm4') {
    // Lane l holds rows r0 + iS + 4 (l % Q) .. + 3 at depth k0 + l / Q.
    loadA = lines([
      `    let ak = k0 + lane / ${Q};`,
      ...blocks.map(
        (i) =>
          `    let a${i} = select(V(0), A[(aBase + min(ak, K - 1) * aCol) / 4 + (r0 + ${i * S}) / 4 + lane % ${Q}], ak < K);`,
      ),
    ]);
    aElem = (r, kk) =>
      `subgroupBroadcast(a${Math.floor(r / S)}[${r % 4}], ${kk * Q + Math.floor((r % S) / 4)}u)`;
  } else {
    // Lane l holds row r0 + iS + l at depths k0 .. k0 + 3.
    const load = (i: number) =>
      s.aLoad === 'k4' ? `A[aRow${i} / 4 + k4]` : vec((q) => `A[aRow${i} + ${kClamp(q)} * aCol]`);
    loadA = lines(blocks.map((i) => `    let a${i} = select(V(0), ${load(i)}, kIn);`));
    aElem = (r, kk) => `subgroupBroadcast(a${Math.floor(r / S)}[${kk}], ${r % S}u)`;
  }
  // B's row k0 + kk over the lane's 4 columns c .. c + 3.
  const loadB: string[] = [];
  let rowB: (kk: number) => string;
  if (s.bLoad === 'k4') {
    // Each column is a vec4 along k; row kk gathers their kk-th components.
    for (let q = 0; q < 4; q++) loadB.push(`    let b${q} = select(V(0), B[bCol${q} / 4 + k4], kIn);`);
    rowB = (kk) => vec((q) => `b${q}[${kk}]`);
  } else {
    const load = (kk: number) =>
      s.bLoad === 'n4'
        ? `B[(bBase + ${kClamp(kk)} * bRow) / 4 + c / 4]`
        : vec((q) => `B[bBase + ${kClamp(kk)} * bRow + bCol${q}]`);
    rowB = (kk) => `select(V(0), ${load(kk)}, k0 + ${kk} < K)`;
  }
  // The 4 rows of B first, then per row of C its 4 broadcasts of A and its accumulator's 4 multiply-adds in a row,
  // so that the accumulator stays in a register (a CPU has 16 vector registers for the 2S vec4 accumulators;
  // interleaving the chains spilled every one of them, at half the speed).
  const steps = [0, 1, 2, 3].map((kk) => `    let b${kk}k = ${rowB(kk)};`);
  for (let r = 0; r < R; r++) {
    const xs = lines([0, 1, 2, 3].map((kk) => `let x${kk} = V(${aElem(r, kk)});`));
    const chain = lines(
      [0, 1, 2, 3].map((kk) =>
        // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent where f32 takes x * b + acc (`false`, 'f32' emptied: the same sums within any test's tolerance, fma saves an instruction); `true` and the other strings emptied fail the tests (killed before marking)
        s.type === 'f32' ? `acc${r} = fma(x${kk}, b${kk}k, acc${r});` : `acc${r} += x${kk} * b${kk}k;`,
      ),
    );
    steps.push(`    {\n      ${xs}\n      ${chain}\n    }`);
  }
  const setup: string[] = [];
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent where an m4 kernel gets the aRow lets too (unused); `false` fails the tests (killed before marking)
  if (s.aLoad !== 'm4') {
    for (const i of blocks) setup.push(`  let aRow${i} = aBase + min(r0 + ${i * S} + lane, M - 1) * aRow;`);
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent where an n4 kernel gets the bCol lets too (unused); `false` fails the tests (killed before marking)
  if (s.bLoad !== 'n4') {
    const base = s.bLoad === 'k4' ? 'bBase + ' : '';
    // Stryker disable next-line EqualityOperator: equivalent for `<=` (an unused fifth bCol let); `>=` fails the tests (killed before marking)
    for (let q = 0; q < 4; q++) setup.push(`  let bCol${q} = ${base}min(c + ${q}, N - 1) * bCol;`);
  }
  const stores = Array.from({ length: R }, (_, r) => {
    const row = lines([0, 1, 2, 3].map((q) => `if (c + ${q} < N) { C[o + ${q}] = acc${r}[${q}]; }`));
    return `  if (r0 + ${r} < M) { let o = cBase + (r0 + ${r}) * N + c; ${row} }`;
  });
  const code = `enable subgroups;
${head}

@compute @workgroup_size(${S * G})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
${matmulPrologue(U, 'wid')}
  let gc = ${U.at('gridCols')};
  let lane = i32(li % ${S}u);
  let sg = i32(li / ${S}u);
  let r0 = wg.y * ${R} * (${G} / gc) + (sg / gc) * ${R};
  let c = wg.x * ${4 * S} * gc + (sg % gc) * ${4 * S} + 4 * lane;
${lines(setup)}
${lines(Array.from({ length: R }, (_, r) => `  var acc${r} = V(0);`))}
  for (var k0 = 0; k0 < K; k0 += 4) {
    let k4 = k0 / 4;
    let kIn = vec4i(k0) + vec4i(0, 1, 2, 3) < vec4i(K);
${lines([loadA, ...loadB, ...steps])}
  }
${lines(stores)}
}
`;
  return { code, workgroupSize: [S * G, 1, 1] as const, bindings, uniforms: U, features: ['subgroups'] };
}
