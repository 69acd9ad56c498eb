import { type FormulaExpr, type MathFunction, formulaExpr } from './formulaExpr.js';

/**
 * The CPU's formulas (JavaScript expressions from @webrnn/kernels' table) as closures, without `new Function`:
 * for pages whose Content-Security-Policy forbids 'unsafe-eval'. The formula's tree (formulaExpr.ts, the one
 * parser of the table's text) becomes a tree of closures over numbered variables.
 */
export type Closure = (v: readonly number[]) => number;

const MATH: Record<MathFunction, (...a: number[]) => number> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  cos: Math.cos,
  sin: Math.sin,
  pow: Math.pow,
  trunc: Math.trunc,
  imul: Math.imul,
};

// Comparisons and logical operators yield booleans in JS; as operands of arithmetic they act as 0/1, and the
// table only ever turns them into numbers through ?:, so closures may return booleans internally.
type Node = (v: readonly number[]) => number | boolean;
type Value = number | boolean;

const BINARY: Record<string, (a: Value, b: Value) => Value> = {
  '|': (a, b) => (a as number) | (b as number),
  '===': (a, b) => a === b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
  '+': (a, b) => (a as number) + (b as number),
  '-': (a, b) => (a as number) - (b as number),
  '*': (a, b) => (a as number) * (b as number),
  '/': (a, b) => (a as number) / (b as number),
};

/** The expression as a closure; `names[i]` is read from `v[i]`. */
export function formulaClosure(expr: string, names: readonly string[]): Closure {
  function closure(e: FormulaExpr): Node {
    switch (e.k) {
      case 'num': {
        const n = e.value;
        return () => n;
      }
      case 'var': {
        const slot = names.indexOf(e.name);
        return (v) => v[slot]!;
      }
      case 'neg': {
        const x = closure(e.arg);
        return (v) => -x(v);
      }
      case 'call': {
        const fn = MATH[e.fn];
        const [x, y] = e.args.map(closure) as [Node, Node | undefined];
        return y ? (v) => fn(x(v) as number, y(v) as number) : (v) => fn(x(v) as number);
      }
      case 'cond': {
        const [c, yes, no] = [closure(e.c), closure(e.yes), closure(e.no)];
        return (v) => (c(v) ? yes(v) : no(v));
      }
      case 'bin': {
        const [l, r] = [closure(e.a), closure(e.b)];
        // || and && short-circuit as in JavaScript.
        if (e.op === '||') return (v) => l(v) || r(v);
        if (e.op === '&&') return (v) => l(v) && r(v);
        const f = BINARY[e.op]!;
        return (v) => f(l(v), r(v));
      }
    }
  }
  return closure(formulaExpr(expr, names)) as Closure;
}

let evalAllowed: boolean | null = null;
let forced: boolean | null = null;

/**
 * Whether `new Function` may compile the formulas: false under a Content-Security-Policy without 'unsafe-eval'
 * (the constructor throws an EvalError), detected once.
 */
export function canCompileFormulas(): boolean {
  if (forced !== null) return forced;
  if (evalAllowed === null) {
    try {
      evalAllowed = new Function('return 1')() === 1;
    } catch {
      evalAllowed = false;
    }
  }
  return evalAllowed;
}

/** Tests: force the compiled (true) or the closure (false) path, or back to detection (null: detected afresh). */
export function forceCompiledFormulas(on: boolean | null): void {
  forced = on;
  // Stryker disable next-line ConditionalExpression: equivalent: a forced answer hides the detection, and going back to null resets it anyway.
  if (on === null) evalAllowed = null;
}
