import type { CellToken } from '@webrnn/kernels';

/**
 * A cell statement's expression (kernels' cells.ts, already checked by parseCell) as a tree: the JS and WGSL
 * generators paste the tokens' text, which their languages parse, but wasm is a stack machine, so the wasm
 * generator needs the operators' precedence made explicit. Left-associative, as in JS and WGSL, so that the float32
 * operations happen in the same order.
 */
export type CellExpr =
  | { readonly k: 'num'; readonly value: number }
  | { readonly k: 'load'; readonly name: string; readonly slice: string | null }
  | { readonly k: 'local'; readonly name: string }
  | { readonly k: 'call'; readonly fn: 'sigmoid' | 'tanh'; readonly arg: CellExpr }
  | { readonly k: 'neg'; readonly arg: CellExpr }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly a: CellExpr; readonly b: CellExpr };

type Item = CellToken | { readonly t: 'op'; readonly s: string };

/** The tree of one expression; throws on what parseCell would not have let through. */
export function cellExpr(tokens: readonly CellToken[]): CellExpr {
  // Split the text tokens into single operators and parentheses (whitespace dropped).
  const items: Item[] = [];
  for (const tok of tokens) {
    if (tok.t !== 'text') items.push(tok);
    else for (const ch of tok.s.replace(/\s+/g, '')) items.push({ t: 'op', s: ch });
  }
  let at = 0;
  const peek = (): string | null => {
    const it = items[at];
    return it?.t === 'op' ? it.s : null;
  };
  const expect = (s: string) => {
    if (peek() !== s) throw new Error(`cell expression: expected '${s}' at item ${at}`);
    at++;
  };
  /** One precedence level: operands from `next`, joined left to right by the operators `ops`. */
  const level = (ops: string, next: () => CellExpr) => (): CellExpr => {
    let a = next();
    for (let op = peek(); op !== null && ops.includes(op); op = peek()) {
      at++;
      a = { k: 'bin', op: op as '+' | '-' | '*' | '/', a, b: next() };
    }
    return a;
  };
  const product = level('*/', () => unary());
  const sum = level('+-', product);
  const unary = (): CellExpr => {
    if (peek() === '-') {
      at++;
      return { k: 'neg', arg: unary() };
    }
    return primary();
  };
  const primary = (): CellExpr => {
    const it = items[at++];
    switch (it?.t) {
      case 'num':
        return { k: 'num', value: Number(it.s) };
      case 'load':
        return { k: 'load', name: it.name, slice: it.slice };
      case 'local':
        return { k: 'local', name: it.name };
      case 'call': {
        // The call token holds its opening parenthesis.
        const arg = sum();
        expect(')');
        return { k: 'call', fn: it.fn, arg };
      }
      case 'op':
        if (it.s === '(') {
          const e = sum();
          expect(')');
          return e;
        }
    }
    throw new Error(`cell expression: unexpected item ${at - 1}`);
  };
  const e = sum();
  if (at !== items.length) throw new Error(`cell expression: trailing items from ${at}`);
  return e;
}
