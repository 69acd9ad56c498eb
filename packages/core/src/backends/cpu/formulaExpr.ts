/**
 * An elementwise formula of kernels' formulas.ts (its `js` text, the one the CPU loops compile with `new Function`)
 * as a tree: the one reading of that text for the paths that cannot hand it to JavaScript, the closures of a page
 * that forbids eval (formulaClosure.ts) and the wasm generator (wasm/elementwiseModule.ts, a stack machine, where
 * the precedence must be explicit). It knows the JavaScript the table uses (numbers, variables, Math.* calls,
 * unary minus, * / + - |, comparisons, && || and ?:) with JavaScript's precedence, left-associative binary
 * operators, and refuses anything else.
 */
export type FormulaExpr =
  | { readonly k: 'num'; readonly value: number }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'call'; readonly fn: MathFunction; readonly args: readonly FormulaExpr[] }
  | { readonly k: 'neg'; readonly arg: FormulaExpr }
  | { readonly k: 'bin'; readonly op: string; readonly a: FormulaExpr; readonly b: FormulaExpr }
  | { readonly k: 'cond'; readonly c: FormulaExpr; readonly yes: FormulaExpr; readonly no: FormulaExpr };

const TOKEN =
  /\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?|===|!==|>=|<=|&&|\|\||[-+*/|<>?:(),])/y;

/** The tokens of a table formula. */
export function tokenize(expr: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  // Stryker disable next-line EqualityOperator: equivalent: at the end the sticky match fails, and the rest ('') is blank.
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

/** The Math functions the table may call (the closures implement each; the wasm generator refuses some). */
export const MATH_FUNCTIONS = [
  'exp',
  'log',
  'sqrt',
  'abs',
  'tanh',
  'cos',
  'sin',
  'pow',
  'trunc',
  'imul',
] as const;
export type MathFunction = (typeof MATH_FUNCTIONS)[number];

/** Binary operators and their precedence (JavaScript's order). */
const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '===': 4,
  '!==': 4,
  '<': 5,
  '>': 5,
  '<=': 5,
  '>=': 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
};

/** The tree of `expr`; `names` are its variables. Throws on what the table never holds. */
export function formulaExpr(expr: string, names: readonly string[]): FormulaExpr {
  const tokens = tokenize(expr);
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`formula '${expr}': ${what} at token ${pos} ('${tokens[pos] ?? 'end'}')`);
  };
  const take = (t: string) => (tokens[pos] === t ? pos++ : fail(`expected '${t}'`));

  function primary(): FormulaExpr {
    const t = tokens[pos++];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const e = ternary();
      take(')');
      return e;
    }
    // Unary minus binds tighter than every binary operator (the table writes -x * y only where that is the same).
    if (t === '-') return { k: 'neg', arg: binary(8) };
    if (/^\d/.test(t)) return { k: 'num', value: Number(t) };
    if (t === 'Infinity') return { k: 'num', value: Number.POSITIVE_INFINITY };
    const fn = t.slice(5) as MathFunction;
    if (t.startsWith('Math.') && MATH_FUNCTIONS.includes(fn)) {
      take('(');
      const args = [ternary()];
      while (tokens[pos] === ',') {
        pos++;
        args.push(ternary());
      }
      take(')');
      return { k: 'call', fn, args };
    }
    if (!names.includes(t)) return fail(`unknown name '${t}'`);
    return { k: 'var', name: t };
  }

  function binary(min: number): FormulaExpr {
    let a = primary();
    for (;;) {
      // Stryker disable next-line StringLiteral: equivalent: no operator is named by any other string either.
      const op = tokens[pos] ?? '';
      const p = PRECEDENCE[op];
      if (p === undefined || p < min) return a;
      pos++;
      a = { k: 'bin', op, a, b: binary(p + 1) };
    }
  }

  function ternary(): FormulaExpr {
    const c = binary(1);
    if (tokens[pos] !== '?') return c;
    pos++;
    const yes = ternary();
    take(':');
    return { k: 'cond', c, yes, no: ternary() };
  }

  const root = ternary();
  if (pos !== tokens.length) fail('unexpected token');
  return root;
}
