import { afterEach, describe, expect, it } from 'vitest';
import { CELLS, type LstmPersistentSpec, lstmPersistentKernel } from '../src/index.js';

/**
 * The persistent LSTM kernel maps lstmCell's operands by name (gates -> its summed pre-activations, cPrev -> the
 * cell state it reads back): a change to the cell table that this mapping does not know must be refused by name
 * when the kernel is built, never turned into WGSL that reads the wrong thing. The table is edited in place here
 * and restored after each test.
 */
const spec: LstmPersistentSpec = {
  kind: 'lstmPersistent',
  wg: 64,
  capR: 64,
  capH: 0,
  keep: false,
  projection: false,
  vec4: false,
};
const table = CELLS.lstmCell as unknown as { reads: Record<string, number>; body: string[] };
const saved = { reads: table.reads, body: table.body };

afterEach(() => {
  table.reads = saved.reads;
  table.body = saved.body;
});

describe('lstmPersistentKernel and the cell table', () => {
  it('builds from today’s table (the guard passes)', () => {
    expect(lstmPersistentKernel(spec).code).toContain('let out_h = ');
  });

  it('refuses a table whose lstmCell gained an operand, naming the operands', () => {
    table.reads = { ...saved.reads, bias: 1 };
    expect(() => lstmPersistentKernel(spec)).toThrow(
      "lstmPersistent: lstmCell's operands changed (act,bias,c,cPrev,gates,h)",
    );
  });

  it('refuses a statement that reads an operand it does not map (the written c), naming it', () => {
    table.body = saved.body.map((line) => (line === 'h = o * tanh(cn)' ? 'h = o * tanh(c)' : line));
    expect(table.body).not.toEqual(saved.body);
    expect(() => lstmPersistentKernel(spec)).toThrow(
      'lstmPersistent: lstmCell reads c, which it does not map',
    );
  });
});
