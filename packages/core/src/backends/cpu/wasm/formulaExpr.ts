import { tokenize } from '../formulaClosure.js';

/**
 * An elementwise formula of kernels' formulas.ts (its `js` text, the one the CPU loops compile) as a tree, for the
 * wasm generator (elementwiseModule.ts): wasm is a stack machine, so the precedence JavaScript applies to the
 * text must be made explicit. The grammar is formulaClosure.ts's (its tokenizer, JavaScript's precedence,
 * left-associative binary operators), so that both read every formula the same way.
 */
export type FormulaExpr =
  | { readonly k: 'num'; readonly value: number }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly FormulaExpr[] }
  | { readonly k: 'neg'; readonly arg: FormulaExpr }
  | { readonly k: 'bin'; readonly op: string; readonly a: FormulaExpr; readonly b: FormulaExpr }
  | { readonly k: 'cond'; readonly c: FormulaExpr; readonly yes: FormulaExpr; readonly no: FormulaExpr };

/** Binary operators and their precedence (JavaScript's order, as formulaClosure.ts). */
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
    // Unary minus binds tighter than every binary operator, as formulaClosure.ts reads it.
    if (t === '-') return { k: 'neg', arg: binary(8) };
    if (/^\d/.test(t)) return { k: 'num', value: Number(t) };
    if (t === 'Infinity') return { k: 'num', value: Number.POSITIVE_INFINITY };
    if (t.startsWith('Math.')) {
      take('(');
      const args = [ternary()];
      while (tokens[pos] === ',') {
        pos++;
        args.push(ternary());
      }
      take(')');
      return { k: 'call', fn: t.slice(5), args };
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
