import { UNARY_FORMULAS } from '@webrnn/kernels';
import { canCompileFormulas, formulaClosure } from './formulaClosure.js';

/**
 * The elementwise table's CPU formulas as plain functions, for the fused cells: each activation is written once
 * (in @webrnn/kernels' formulas.ts), so the cells and the ops agree on every value, NaN and Inf included.
 */
function scalar(op: keyof typeof UNARY_FORMULAS): (x: number) => number {
  const expr = UNARY_FORMULAS[op].js;
  // Compiled where allowed (the source is our own formula table, never user input); a closure under a strict CSP.
  if (canCompileFormulas()) return new Function('x', `return ${expr};`) as (x: number) => number;
  const f = formulaClosure(expr, ['x']);
  const v = [0];
  return (x) => {
    v[0] = x;
    return f(v);
  };
}

export const sigmoid = scalar('sigmoid');
export const tanh = scalar('tanh');
