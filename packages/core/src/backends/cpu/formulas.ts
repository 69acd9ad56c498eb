import { UNARY_FORMULAS } from '@webrnn/kernels';

/**
 * The elementwise table's CPU formulas as plain functions, for the fused cells: each activation is written once
 * (in @webrnn/kernels' formulas.ts), so the cells and the ops agree on every value, NaN and Inf included.
 */
const scalar = (op: keyof typeof UNARY_FORMULAS) =>
  // The source is our own formula table, never user input.
  new Function('x', `return ${UNARY_FORMULAS[op].js};`) as (x: number) => number;

export const sigmoid = scalar('sigmoid');
export const tanh = scalar('tanh');
