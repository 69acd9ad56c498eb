import { lines } from './wgsl.js';

/**
 * IEEE-754 semantics in WGSL, written once. WGSL lets an implementation assume that no NaN or infinity occurs
 * (so `x != x` may fold to false), and leaves `max`, `min`, `clamp`, `pow`, `log`/`sqrt` of negatives, overflowing
 * `exp` and division by zero implementation-defined. These helpers decide every special case on the bit pattern
 * (which no fast-math assumption removes) and call a builtin only where its result is defined, so every device
 * gives the CPU's (and PyTorch's, C99's) answer. Infinity and NaN are made at run time from a private variable:
 * a const-expression evaluating to either is a shader-creation error.
 *
 * Kernels write their formulas with these `ieee*` functions and pass their code through `withNumerics`, which
 * prepends the helpers the code calls (and those they call). All helpers are over f32; i32 needs none.
 */
const HELPERS: Readonly<Record<string, string>> = {
  ieeeInfBits: 'var<private> ieeeInfBits: u32 = 0x7f800000u;',
  ieeeInf: 'fn ieeeInf() -> f32 { return bitcast<f32>(ieeeInfBits); }',
  ieeeNan: 'fn ieeeNan() -> f32 { return bitcast<f32>(ieeeInfBits | 0x400000u); }',
  ieeeIsNan: 'fn ieeeIsNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
  ieeeIsInf: 'fn ieeeIsInf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }',
  ieeeIsZero: 'fn ieeeIsZero(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0u; }',
  ieeeIsNeg:
    '/** The sign bit (set for -0 too). */\nfn ieeeIsNeg(x: f32) -> bool { return bitcast<u32>(x) >= 0x80000000u; }',
  ieeeOrdered: 'fn ieeeOrdered(a: f32, b: f32) -> bool { return !ieeeIsNan(a) && !ieeeIsNan(b); }',
  // A NaN on either side gives NaN (PyTorch's maximum/minimum); otherwise a on ties, as the CPU's formula.
  ieeeMax: `fn ieeeMax(a: f32, b: f32) -> f32 {
  return select(select(select(b, a, a >= b), b, ieeeIsNan(b)), a, ieeeIsNan(a));
}`,
  ieeeMin: `fn ieeeMin(a: f32, b: f32) -> f32 {
  return select(select(select(b, a, a <= b), b, ieeeIsNan(b)), a, ieeeIsNan(a));
}`,
  // NaN stays NaN; bounds may be infinite (lo <= hi is checked on the host).
  ieeeClamp: `fn ieeeClamp(x: f32, lo: f32, hi: f32) -> f32 {
  return select(select(select(x, hi, x > hi), lo, x < lo), x, ieeeIsNan(x));
}`,
  // 88.72283172607422 is the largest f32 whose exp is finite in f32; below -104 exp is 0 in f32.
  ieeeExp: `fn ieeeExp(x: f32) -> f32 {
  if (ieeeIsNan(x)) { return x; }
  if (x > 88.72283172607422) { return ieeeInf(); }
  return exp(max(x, -104.0));
}`,
  ieeeLog: `fn ieeeLog(x: f32) -> f32 {
  if (ieeeIsNan(x)) { return x; }
  if (ieeeIsZero(x)) { return -ieeeInf(); }
  if (ieeeIsNeg(x)) { return ieeeNan(); }
  if (ieeeIsInf(x)) { return x; }
  return log(x);
}`,
  // sqrt(-0) = -0, sqrt(+Inf) = +Inf, sqrt(x < 0) = NaN.
  ieeeSqrt: `fn ieeeSqrt(x: f32) -> f32 {
  if (ieeeIsNan(x) || ieeeIsZero(x)) { return x; }
  if (ieeeIsNeg(x)) { return ieeeNan(); }
  if (ieeeIsInf(x)) { return x; }
  return sqrt(x);
}`,
  // 0/0 and Inf/Inf are NaN, x/0 and Inf/y are signed infinities, x/Inf and 0/y signed zeros.
  ieeeDiv: `fn ieeeDiv(a: f32, b: f32) -> f32 {
  if (!ieeeOrdered(a, b)) { return ieeeNan(); }
  let s = (bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u;
  let za = ieeeIsZero(a);
  let zb = ieeeIsZero(b);
  let ia = ieeeIsInf(a);
  let ib = ieeeIsInf(b);
  if ((za && zb) || (ia && ib)) { return ieeeNan(); }
  if (zb || ia) { return bitcast<f32>(s | ieeeInfBits); }
  if (za || ib) { return bitcast<f32>(s); }
  return a / b;
}`,
  // tanh is within an ulp of +-1 past 15, and some implementations overflow an exp inside tanh for large |x|.
  // Not finite in, NaN out (the builtins are undefined there).
  ieeeCos: `fn ieeeCos(x: f32) -> f32 {
  if (ieeeIsNan(x) || ieeeIsInf(x)) { return ieeeNan(); }
  return cos(x);
}`,
  ieeeSin: `fn ieeeSin(x: f32) -> f32 {
  if (ieeeIsNan(x) || ieeeIsInf(x)) { return ieeeNan(); }
  return sin(x);
}`,
  ieeeTanh: `fn ieeeTanh(x: f32) -> f32 {
  if (ieeeIsNan(x)) { return x; }
  return tanh(clamp(x, -15.0, 15.0));
}`,
  // The stable sigmoid: exp of -|x| only, so it never overflows; e / (1 + e) for x < 0, 1 / (1 + e) otherwise.
  ieeeSigmoid: `fn ieeeSigmoid(x: f32) -> f32 {
  if (ieeeIsNan(x)) { return x; }
  let e = ieeeExp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`,
  // PyTorch's (0 < x) - (x < 0): 0 for NaN and +-0.
  ieeeSign: `fn ieeeSign(x: f32) -> f32 {
  if (ieeeIsNan(x)) { return 0.0; }
  return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);
}`,
  // Every f32 at or past 2^24 is an even integer.
  ieeeIsOddInt: `fn ieeeIsOddInt(y: f32) -> bool {
  return abs(y) < 16777216.0 && y - 2.0 * floor(y * 0.5) == 1.0;
}`,
  // C99's pow (what PyTorch computes): pow(x, +-0) = 1 and pow(1, y) = 1 even for NaN; pow(-1, +-Inf) = 1; a
  // negative base gives the signed result for an integer exponent and NaN otherwise; 0 and Inf bases give 0 or Inf,
  // negative for an odd integer exponent and a negative base; |x| < 1 or > 1 to +-Inf gives 0 or Inf.
  ieeePow: `fn ieeePow(x: f32, y: f32) -> f32 {
  if (ieeeIsZero(y) || bitcast<u32>(x) == 0x3f800000u) { return 1.0; }
  if (!ieeeOrdered(x, y)) { return ieeeNan(); }
  let ax = abs(x);
  let flip = ieeeIsNeg(x) && ieeeIsOddInt(y);
  if (ieeeIsInf(y)) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, ieeeInf(), (ax > 1.0) == (y > 0.0));
  }
  if (ieeeIsZero(x) || ieeeIsInf(x)) {
    let m = select(0.0, ieeeInf(), ieeeIsZero(x) == (y < 0.0));
    return select(m, -m, flip);
  }
  if (ieeeIsNeg(x) && floor(y) != y) { return ieeeNan(); }
  let t = y * log2(ax);
  var r = 0.0;
  if (t >= 128.0) { r = ieeeInf(); } else if (t > -150.0) { r = pow(ax, y); }
  return select(r, -r, flip);
}`,
};

const NAME = /\bieee[A-Za-z]+\b/g;

/** The helpers `code` calls, with those they call in turn, in the table's order. */
function needed(code: string): Set<string> {
  const found = new Set<string>();
  const visit = (src: string) => {
    for (const [name] of src.matchAll(NAME)) {
      if (found.has(name) || !(name in HELPERS)) continue;
      found.add(name);
      visit(HELPERS[name]!);
    }
  };
  visit(code);
  return found;
}

/** `code` preceded by the numerics helpers it uses (nothing when it uses none). */
export function withNumerics(code: string): string {
  const names = needed(code);
  if (names.size === 0) return code;
  const prelude = lines(
    Object.keys(HELPERS)
      .filter((n) => names.has(n))
      .map((n) => HELPERS[n]!),
  );
  return `${prelude}\n\n${code}`;
}
