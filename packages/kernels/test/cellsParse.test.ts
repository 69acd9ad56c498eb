import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CELLS,
  type CellDef,
  type CellKind,
  cellJs,
  cellJsKey,
  cellOperandNames,
  cellWidth,
  gateOffsets,
  isOptional,
  parseCell,
  sliceBlocks,
} from '../src/index.js';

/**
 * The cell table's reader and its lookups, beyond cells.test.ts: what a statement may look like (spacing is free,
 * anything before the target or after the expression is refused), where slices and locals may appear, and the
 * per-kind lookups the backends call at each step (operand names, widths, optional operands, slice blocks).
 */
const KINDS = Object.keys(CELLS) as CellKind[];
const lstmLike = (body: string[], writes: Record<string, number> = { y: 1 }): CellDef => ({
  family: 'lstm',
  writes,
  reads: { x: 4 },
  body,
});
const parse = (body: string[], writes?: Record<string, number>) =>
  parseCell('lstmCell', lstmLike(body, writes));

describe('the cell table reader', () => {
  it('reads a statement the same whatever the spacing around `=`', () => {
    const spaces = fc.stringMatching(/^[ \t]{0,3}$/);
    fc.assert(
      fc.property(spaces, spaces, fc.constantFrom('i', 'z', 'f', 'o'), (before, after, s) => {
        const reference = parse(['a = x[i]', `y[${s}] = a * x[${s}]`], { y: 4 });
        const spaced = parse([`a${before}=${after}x[i]`, `y[${s}]${before}=${after}a * x[${s}]`], { y: 4 });
        expect(spaced).toEqual(reference);
      }),
    );
  });

  it('keeps a statement whole: the target first, the expression to the end', () => {
    expect(parse(['y = x[i] + 1'])).toEqual([
      {
        store: true,
        to: 'y',
        slice: null,
        expr: [
          { t: 'load', name: 'x', slice: 'i' },
          { t: 'text', s: ' + ' },
          { t: 'num', s: '1' },
        ],
      },
    ]);
  });

  it.each([
    // Something before the target is not part of any statement.
    [['+y = x'], "cannot read '+y = x'"],
    // A statement is one line.
    [['y = x\nq'], "cannot read 'y = x\nq'"],
    // A slice name longer than a letter is read, then refused as a slice.
    [['y[zz] = x'], 'unknown slice [zz]'],
    // Locals are per column: they have no slices, neither read nor written.
    [['a = x[i]', 'y = a[i]'], "'a' in 'y = a[i]' is neither an operand nor an earlier local"],
    [['a[i] = x[i]', 'y = a'], "bad local 'a[i] = x[i]'"],
  ])('refuses %j', (body, message) => {
    expect(() => parse(body, { y: 4 })).toThrow(`cell lstmCell: ${message}`);
  });
});

describe('the cell table lookups', () => {
  it.each(KINDS)('%s: one frozen list of operand names, the written first', (kind) => {
    const names = cellOperandNames(kind);
    expect(names).toEqual([...Object.keys(CELLS[kind].writes), ...Object.keys(CELLS[kind].reads)]);
    expect(Object.isFrozen(names)).toBe(true);
    // Backends call it per step: the same array each time, not a new one.
    expect(cellOperandNames(kind)).toBe(names);
  });

  it.each(KINDS)('%s: widths from the table, and an unknown operand is refused by name', (kind) => {
    const def: CellDef = CELLS[kind];
    for (const [name, w] of [...Object.entries(def.writes), ...Object.entries(def.reads)]) {
      expect(cellWidth(kind, name)).toBe(w);
    }
    expect(() => cellWidth(kind, 'nope')).toThrow(`${kind}: no operand nope`);
  });

  it.each(KINDS)('%s: optional operands are exactly the listed ones', (kind) => {
    const optional: readonly string[] = (CELLS[kind] as CellDef).optional ?? [];
    for (const name of cellOperandNames(kind)) expect(isOptional(kind, name)).toBe(optional.includes(name));
  });

  it("places LSTM slices by the order, SeqLSTM's 'ifog' when none is given; GRU's r then u", () => {
    for (const order of ['izfo', 'ifog', 'ifgo'] as const) {
      expect(sliceBlocks('lstmCell', order)).toEqual(gateOffsets(order));
    }
    expect(sliceBlocks('lstmCellBackward', undefined)).toEqual(gateOffsets('ifog'));
    expect(sliceBlocks('gruOut', undefined)).toEqual({ r: 0, u: 1 });
    expect(sliceBlocks('gruGates', 'izfo')).toEqual({ r: 0, u: 1 });
  });
});

describe('the CPU loop cache key', () => {
  const ORDERS = [undefined, 'izfo', 'ifog', 'ifgo'] as const;
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,3}$/);

  it('is the same for the same absent operands in any order, as the source is', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom('gH', 'gC'), { maxLength: 2 }), (absent) => {
        const a = cellJs('lstmCellBackward', 'izfo', absent);
        const b = cellJs('lstmCellBackward', 'izfo', [...absent].reverse());
        expect(b.key).toBe(a.key);
        expect(b.source).toBe(a.source);
      }),
    );
  });

  it('tells apart any two different (kind, order, absent set) triples', () => {
    const triple = fc.tuple(
      fc.constantFrom(...KINDS),
      fc.constantFrom(...ORDERS),
      fc.uniqueArray(name, { maxLength: 3 }),
    );
    const same = (x: readonly string[], y: readonly string[]) =>
      x.length === y.length && x.every((n) => y.includes(n));
    fc.assert(
      fc.property(triple, triple, ([k1, o1, a1], [k2, o2, a2]) => {
        const equal = k1 === k2 && o1 === o2 && same(a1, a2);
        expect(cellJsKey(k1, o1, a1) === cellJsKey(k2, o2, a2)).toBe(equal);
      }),
    );
    // Names that would run together without a separator.
    expect(cellJsKey('lstmCellBackward', 'izfo', ['gC', 'gH'])).not.toBe(
      cellJsKey('lstmCellBackward', 'izfo', ['gCgH']),
    );
  });
});
