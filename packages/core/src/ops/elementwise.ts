import { isGradEnabled as isRecordingOn } from '../autograd/gradMode.js';
import type { BinaryOpName, UnaryOpName } from '../backends/backend.js';
import { WebrnnError, divisionByZero, fmtShape } from '../errors.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { scalarLike } from './create.js';
import {
  alloc,
  backendOf,
  broadcastView,
  checkInt32,
  checkTensor,
  floatOnly,
  record,
  sameDType,
} from './operands.js';
import { BINARY_FORMULAS, UNARY_FORMULAS } from '@webrnn/kernels';
import { intBounds, intOperand } from './int32Operands.js';
import { checkInPlace } from './inPlace.js';
import { sumTo } from './sumTo.js';

/**
 * Elementwise ops. Forward formulas are in @webrnn/kernels' formulas.ts (shared with the kernels); here each op gets its
 * validation and its gradient, written with ops so it runs on every backend.
 */

type Operand = Tensor | number;

// ---- unary ------------------------------------------------------------------------------------------------

/** What backward needs (the input x, the output y, or nothing) and the gradient given it. */
interface UnaryGrad {
  readonly save: 'x' | 'y' | 'none';
  readonly grad: ((g: Tensor, s: Tensor) => Tensor) | null;
}

const UNARY_GRADS: Record<UnaryOpName, UnaryGrad> = {
  neg: { save: 'none', grad: (g) => neg(g) },
  exp: { save: 'y', grad: (g, y) => mul(g, y) },
  log: { save: 'x', grad: (g, x) => div(g, x) },
  sqrt: { save: 'y', grad: (g, y) => div(mul(g, 0.5), y) },
  abs: { save: 'x', grad: (g, x) => mul(g, sign(x)) },
  sign: { save: 'none', grad: null },
  tanh: { save: 'y', grad: (g, y) => mul(g, affine(square(y), -1, 1)) },
  sigmoid: { save: 'y', grad: (g, y) => mul(g, mul(y, affine(y, -1, 1))) },
  relu: { save: 'x', grad: (g, x) => mul(g, step(x)) },
  step: { save: 'none', grad: null },
  square: { save: 'x', grad: (g, x) => mul(g, mul(x, 2)) },
  reciprocal: { save: 'y', grad: (g, y) => neg(mul(g, square(y))) },
  cos: { save: 'x', grad: (g, x) => neg(mul(g, sin(x))) },
  sin: { save: 'x', grad: (g, x) => mul(g, cos(x)) },
};

function unary(op: UnaryOpName, x: Tensor): Tensor {
  const backend = backendOf(op, x);
  if (UNARY_FORMULAS[op].floatOnly) floatOnly(op, x);
  const y = alloc(backend, x.dtype, x.shape);
  backend.unary({ op }, { x: x.backendView(op), out: y.backendView() });
  const { save, grad } = UNARY_GRADS[op];
  if (grad) {
    const saved = save === 'x' ? [x] : save === 'y' ? [y] : [];
    record(op, [x], [y], ([g], s) => [grad(g!, s[0]!)], saved);
  }
  return y;
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sign = (x: Tensor) => unary('sign', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const relu = (x: Tensor) => unary('relu', x);
/** 1 where x > 0, else 0 (no gradient). */
export const step = (x: Tensor) => unary('step', x);
export const square = (x: Tensor) => unary('square', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
/** Elementwise cosine and sine (float only; NaN and +-Inf give NaN). */
export const cos = (x: Tensor) => unary('cos', x);
export const sin = (x: Tensor) => unary('sin', x);

/** x * scale + shift in one pass (how scalar add/sub/mul/div run: no scalar tensor, no broadcast). */
export function affine(x: Tensor, scale: number, shift: number): Tensor {
  const backend = backendOf('affine', x);
  // int32: any integers, reduced modulo 2^32 by the backends (sub(-2^31) shifts by 2^31, which wraps exactly).
  if (x.dtype === 'int32' && !(Number.isInteger(scale) && Number.isInteger(shift))) {
    throw new WebrnnError(
      'affine',
      `an int32 tensor needs an integer scale and shift, got ${scale} and ${shift}; cast it to a float dtype first`,
    );
  }
  const y = alloc(backend, x.dtype, x.shape);
  backend.unary(
    { op: 'affine', params: [scale, shift] },
    // Stryker disable next-line StringLiteral: equivalent: the name only labels a refusal of a disposed x, which backendOf made above.
    { x: x.backendView('affine'), out: y.backendView() },
  );
  // Stryker disable next-line ConditionalExpression: equivalent for `false` (g * 1 is g; gradients are computed unrecorded); `true` fails the tests (checked by hand).
  record('affine', [x], [y], ([g]) => [scale === 1 ? g!.detach() : affine(g!, scale, 0)]);
  return y;
}

/**
 * Clamp into [min, max]. The gradient passes where min <= x <= max (PyTorch's clamp); `hardtanh` is the same
 * forward with Torch's HardTanh gradient, which passes only strictly inside.
 */
export function clamp(x: Tensor, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Tensor {
  return clampWith('clamp', x, min, max, false);
}

export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  return clampWith('hardtanh', x, min, max, true);
}

function clampWith(op: string, x: Tensor, min: number, max: number, strict: boolean): Tensor {
  const backend = backendOf(op, x);
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) {
    throw new WebrnnError(op, `needs min <= max, got min ${min} and max ${max}`);
  }
  if (x.dtype === 'int32') intBounds(op, min, max);
  const y = alloc(backend, x.dtype, x.shape);
  backend.unary({ op: 'clamp', params: [min, max] }, { x: x.backendView(op), out: y.backendView() });
  record(
    op,
    [x],
    [y],
    ([g], [xs]) => {
      // strict: (x > min) * (x < max); inclusive: (x >= min) * (x <= max) = (1 - (min > x)) * (1 - (x > max)).
      const lo = strict ? step(affine(xs!, 1, -min)) : affine(step(affine(xs!, -1, min)), -1, 1);
      const hi = strict ? step(affine(xs!, -1, max)) : affine(step(affine(xs!, 1, -max)), -1, 1);
      return [mul(g!, mul(lo, hi))];
    },
    [x],
  );
  return y;
}

// ---- binary -----------------------------------------------------------------------------------------------

/** `name` is the op as the caller knows it (maximum for the kernel max), for errors and the tape. */
function binary(op: BinaryOpName, a: Tensor, b: Tensor, name: string = op): Tensor {
  const backend = backendOf(name, a, b);
  sameDType(name, a, b);
  // Stryker disable next-line ConditionalExpression: equivalent for `false`: pow, the one float-only binary op, checks first; `true` fails the tests (checked by hand).
  if (BINARY_FORMULAS[op].floatOnly) floatOnly(name, a);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const y = alloc(backend, a.dtype, shape);
  backend.binary(op, {
    a: broadcastView(a, shape, name),
    b: broadcastView(b, shape, name),
    out: y.backendView(),
  });
  return y;
}

/**
 * Run `fn` with `v` as a tensor; a number becomes a 0-d tensor like `like`, disposed afterwards (for an int32
 * `like`, an integer in the int32 range: op `op` refuses others).
 */
function withOperand<T>(op: string, like: Tensor, v: Operand, fn: (t: Tensor) => T): T {
  checkTensor(op, like, 'a');
  if (typeof v !== 'number') return fn(v);
  intOperand(op, like, v);
  const t = scalarLike(like, v);
  try {
    return fn(t);
  } finally {
    t.dispose();
  }
}

/** Apply a binary op to tensors or numbers, recording `grads(g, a, b, y)` = [da, db] before reduction. */
function arith(
  op: BinaryOpName,
  a: Tensor,
  b: Tensor,
  save: 'ab' | 'aby' | 'none',
  grads: (g: Tensor, s: readonly Tensor[], needs: readonly boolean[]) => [Tensor | null, Tensor | null],
  name: string = op,
): Tensor {
  const y = binary(op, a, b, name);
  const saved = save === 'ab' ? [a, b] : save === 'aby' ? [a, b, y] : [];
  record(
    name,
    [a, b],
    [y],
    ([g], s, needs) => {
      const [da, db] = grads(g!, s, needs);
      // Stryker disable next-line LogicalOperator: equivalent: a gradient for an input that needs none is dropped by the tape (grads returns none that is needed and null).
      return [da && needs[0] ? sumTo(da, a.shape) : null, db && needs[1] ? sumTo(db, b.shape) : null];
    },
    saved,
  );
  return y;
}

export function add(a: Tensor, b: Operand): Tensor {
  checkTensor('add', a, 'a');
  if (typeof b === 'number') {
    intOperand('add', a, b, true);
    return affine(a, 1, b);
  }
  // Stryker disable next-line StringLiteral: equivalent for 'none' (any save but 'ab'/'aby' keeps nothing); '' for 'add' fails the tests (checked by hand).
  return arith('add', a, b, 'none', (g) => [g, g]);
}

export function sub(a: Tensor, b: Operand): Tensor {
  checkTensor('sub', a, 'a');
  if (typeof b === 'number') {
    intOperand('sub', a, b, true);
    return affine(a, 1, -b);
  }
  // Stryker disable next-line StringLiteral: equivalent for 'none', as in add; '' for 'sub' fails the tests (checked by hand).
  return arith('sub', a, b, 'none', (g, _s, needs) => [g, needs[1] ? neg(g) : null]);
}

export function mul(a: Tensor, b: Operand): Tensor {
  checkTensor('mul', a, 'a');
  if (typeof b === 'number') {
    intOperand('mul', a, b, true);
    return affine(a, b, 0);
  }
  return arith('mul', a, b, 'ab', (g, [as, bs], needs) => [
    needs[0] ? mul(g, bs!) : null,
    needs[1] ? mul(g, as!) : null,
  ]);
}

export function div(a: Tensor, b: Operand): Tensor {
  checkTensor('div', a, 'a');
  if (typeof b === 'number') {
    if (a.dtype !== 'int32') return affine(a, 1 / b, 0);
    // int32 division truncates; the divisor must be an int32 too (a fraction would be truncated silently).
    if (!Number.isInteger(b)) {
      throw new WebrnnError(
        'div',
        `an int32 tensor can only be divided by an integer, got ${b}; cast it to a float dtype first`,
      );
    }
    if (b === 0) throw divisionByZero('div');
    return withOperand('div', a, b, (bt) => binary('div', a, bt));
  }
  return arith('div', a, b, 'aby', (g, [, bs, ys], needs) => [
    needs[0] ? div(g, bs!) : null,
    needs[1] ? neg(div(mul(g, ys!), bs!)) : null,
  ]);
}

/** a ** b; the gradient for b uses log(a), so it needs a > 0 where b requires grad. */
export function pow(a: Tensor, b: Operand): Tensor {
  // Checked here so that every exponent gives the same answer (2 and 1 take shortcuts that int32 would pass).
  backendOf('pow', a);
  floatOnly('pow', a);
  // The shortcuts give the general path's values and gradients, only faster: their mutants are equivalent.
  // Stryker disable next-line all: equivalent, see above.
  if (typeof b === 'number') {
    // Stryker disable next-line all: equivalent, see above.
    if (b === 2) return square(a);
    // Stryker disable next-line all: equivalent, see above.
    if (b === 1) return affine(a, 1, 0);
  }
  // Stryker disable next-line StringLiteral: equivalent: for a float-only op the name labels no refusal (a is checked above, a number is never refused).
  return withOperand('pow', a, b, (bt) => powT(a, bt));
}

function powT(a: Tensor, bt: Tensor): Tensor {
  return arith('pow', a, bt, 'aby', (g, [as, bs, ys], needs) => [
    needs[0] ? mul(g, mul(bs!, pow(as!, affine(bs!, 1, -1)))) : null,
    needs[1] ? mul(g, mul(ys!, log(as!))) : null,
  ]);
}

/** Elementwise maximum; at ties the gradient goes to a. */
export const maximum = (a: Tensor, b: Operand): Tensor => extremum('maximum', a, b);

/** Elementwise minimum; at ties the gradient goes to a. */
export const minimum = (a: Tensor, b: Operand): Tensor => extremum('minimum', a, b);

/** maximum or minimum: the gradient goes where a wins or ties (a >= b, resp. a <= b), the rest to b. */
function extremum(name: 'maximum' | 'minimum', a: Tensor, b: Operand): Tensor {
  const [op, wins] = name === 'maximum' ? (['max', ge] as const) : (['min', le] as const);
  return withOperand(name, a, b, (bt) =>
    arith(
      op,
      a,
      bt,
      'ab',
      (g, [as, bs]) => {
        const m = wins(as!, bs!);
        return [mul(g, m), mul(g, affine(m, -1, 1))];
      },
      name,
    ),
  );
}

// Comparisons return 1 or 0 in the inputs' dtype and carry no gradient.
export const gt = (a: Tensor, b: Operand) => withOperand('gt', a, b, (bt) => binary('gt', a, bt));
export const ge = (a: Tensor, b: Operand) => withOperand('ge', a, b, (bt) => binary('ge', a, bt));
export const lt = (a: Tensor, b: Operand) => withOperand('lt', a, b, (bt) => binary('lt', a, bt));
export const le = (a: Tensor, b: Operand) => withOperand('le', a, b, (bt) => binary('le', a, bt));
export const eq = (a: Tensor, b: Operand) => withOperand('eq', a, b, (bt) => binary('eq', a, bt));

/** cond != 0 ? a : b, with broadcasting; gradients flow to a and b, not cond. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  checkTensor('where', cond, 'cond');
  const like = typeof a !== 'number' ? a : typeof b !== 'number' ? b : null;
  if (!like) throw new WebrnnError('where', 'needs at least one of a and b to be a tensor');
  return withOperand('where', like, a, (at) => withOperand('where', like, b, (bt) => whereT(cond, at, bt)));
}

function whereT(cond: Tensor, at: Tensor, bt: Tensor): Tensor {
  const backend = backendOf('where', cond, at, bt);
  sameDType('where', at, bt);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, at.shape), bt.shape);
  const y = alloc(backend, at.dtype, shape);
  // Stryker disable StringLiteral: equivalent: the names label a broadcast refusal that broadcastShapes made above.
  backend.where({
    cond: broadcastView(cond, shape, 'where'),
    a: broadcastView(at, shape, 'where'),
    b: broadcastView(bt, shape, 'where'),
    out: y.backendView(),
  });
  // Stryker restore StringLiteral
  record(
    'where',
    [at, bt],
    [y],
    ([g], [c], needs) => {
      const zero = scalarLike(g!, 0);
      return [
        needs[0] ? sumTo(where(c!, g!, zero), at.shape) : null,
        needs[1] ? sumTo(where(c!, zero, g!), bt.shape) : null,
      ];
    },
    [cond],
  );
  return y;
}

// ---- in place (never recorded: for optimisers, gradient accumulation and state updates) -------------------

/** target = target op source, in place (source broadcast to target's shape). */
export function binaryInPlace(op: 'add' | 'sub' | 'mul' | 'div', target: Tensor, source: Operand): Tensor {
  const name = `${op}_`;
  checkTensor(name, target, 'target');
  return withOperand(name, target, source, (src) => {
    const backend = backendOf(name, target, src);
    sameDType(name, target, src);
    checkInPlace(name, target, src);
    const bv = broadcastView(src, target.shape, name);
    // Stryker disable next-line ConditionalExpression: equivalent since checkInPlace refuses sources that partly share the target's memory: both paths then write the same values.
    if (target.isContiguous)
      backend.binary(op, { a: target.backendView(), b: bv, out: target.backendView() });
    else {
      const tmp = alloc(backend, target.dtype, target.shape);
      backend.binary(op, { a: target.backendView(), b: bv, out: tmp.backendView() });
      backend.copy({ x: tmp.backendView(), out: target.backendView() });
      tmp.dispose();
    }
    target.storage.version++;
    return target;
  });
}

export { copyInPlace } from './inPlace.js';

export const addInPlace = (t: Tensor, s: Operand) => binaryInPlace('add', t, s);

export function fillInPlace(target: Tensor, value: number): Tensor {
  checkTensor('fill_', target, 'target');
  if (target.dtype === 'int32') checkInt32('fill_', value, 'the fill value');
  if (target.requiresGrad && target.isLeaf && isRecordingOn()) {
    throw new WebrnnError(
      'fill_',
      'a leaf tensor that requires grad cannot be modified in place; use noGrad()',
    );
  }
  target.backend.fill({ out: target.backendView() }, value);
  // Stryker disable next-line UpdateOperator: equivalent: -- changes the version too; saved tensors compare versions for equality only.
  target.storage.version++;
  return target;
}
