/**
 * The CPU's formulas (JavaScript expressions from @webrnn/kernels' table) as closures, without `new Function`:
 * for pages whose Content-Security-Policy forbids 'unsafe-eval'. A small parser turns the expression into a tree
 * of closures over numbered variables; it knows the JavaScript the table uses (numbers, variables, Math.*, unary
 * minus, * / + - |, comparisons, && || and ?:) with JavaScript's precedence, and refuses anything else.
 */
export type Closure = (v: readonly number[]) => number;

const TOKEN =
  /\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?|===|!==|>=|<=|&&|\|\||[-+*/|<>?:(),])/y;

/** The tokens of a table formula (also read by the wasm generator, wasm/formulaExpr.ts). */
export function tokenize(expr: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (!m) {
      if (/^\s*$/.test(expr.slice(at))) break;
      throw new Error(`formula '${expr}': cannot read from '${expr.slice(at).trim()}'`);
    }
    out.push(m[1]!);
  }
  return out;
}

const MATH: Record<string, (...a: number[]) => number> = {
  'Math.exp': Math.exp,
  'Math.log': Math.log,
  'Math.sqrt': Math.sqrt,
  'Math.abs': Math.abs,
  'Math.tanh': Math.tanh,
  'Math.cos': Math.cos,
  'Math.sin': Math.sin,
  'Math.pow': Math.pow,
  'Math.trunc': Math.trunc,
  'Math.imul': Math.imul,
};

const BINARY: Record<string, [number, (a: number, b: number) => number | boolean]> = {
  '||': [1, (a, b) => a || b],
  '&&': [2, (a, b) => a && b],
  '|': [3, (a, b) => a | b],
  '===': [4, (a, b) => a === b],
  '!==': [4, (a, b) => a !== b],
  '<': [5, (a, b) => a < b],
  '>': [5, (a, b) => a > b],
  '<=': [5, (a, b) => a <= b],
  '>=': [5, (a, b) => a >= b],
  '+': [6, (a, b) => a + b],
  '-': [6, (a, b) => a - b],
  '*': [7, (a, b) => a * b],
  '/': [7, (a, b) => a / b],
};

/** The expression as a closure; `names[i]` is read from `v[i]`. */
export function formulaClosure(expr: string, names: readonly string[]): Closure {
  const tokens = tokenize(expr);
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`formula '${expr}': ${what} at token ${pos} ('${tokens[pos] ?? 'end'}')`);
  };
  const take = (t: string) => (tokens[pos] === t ? (pos++, true) : fail(`expected '${t}'`));

  // Comparisons and logical operators yield booleans in JS; as operands of arithmetic they act as 0/1, and the
  // table only ever turns them into numbers through ?:, so closures may return booleans internally.
  type Node = (v: readonly number[]) => number | boolean;

  function primary(): Node {
    const t = tokens[pos++];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const e = ternary();
      take(')');
      return e;
    }
    if (t === '-') {
      const e = binary(8);
      return (v) => -e(v);
    }
    if (/^\d/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    if (t === 'Infinity') return () => Number.POSITIVE_INFINITY;
    const fn = MATH[t];
    if (fn) {
      take('(');
      const args: Node[] = [ternary()];
      while (tokens[pos] === ',') {
        pos++;
        args.push(ternary());
      }
      take(')');
      if (args.length === 1) {
        const [x] = args as [Node];
        return (v) => fn(x(v) as number);
      }
      const [x, y] = args as [Node, Node];
      return (v) => fn(x(v) as number, y(v) as number);
    }
    const slot = names.indexOf(t);
    if (slot < 0) return fail(`unknown name '${t}'`);
    return (v) => v[slot]!;
  }

  /** Binary operators binding tighter than `min` (precedence climbing, left-associative). */
  function binary(min: number): Node {
    let left = primary();
    for (;;) {
      const op = BINARY[tokens[pos] ?? ''];
      if (!op || op[0] < min) return left;
      pos++;
      const right = binary(op[0] + 1);
      const l = left;
      const f = op[1] as (a: number | boolean, b: number | boolean) => number | boolean;
      // || and && short-circuit as in JavaScript.
      left =
        op[0] === 1
          ? (v) => l(v) || right(v)
          : op[0] === 2
            ? (v) => l(v) && right(v)
            : (v) => f(l(v), right(v));
    }
  }

  function ternary(): Node {
    const cond = binary(1);
    if (tokens[pos] !== '?') return cond;
    pos++;
    const yes = ternary();
    take(':');
    const no = ternary();
    return (v) => (cond(v) ? yes(v) : no(v));
  }

  const root = ternary();
  if (pos !== tokens.length) fail('unexpected token');
  return root as Closure;
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

/** Tests: force the compiled (true) or the closure (false) path, or back to detection (null). */
export function forceCompiledFormulas(on: boolean | null): void {
  forced = on;
}
