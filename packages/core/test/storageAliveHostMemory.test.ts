import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { tensor } from '@webrnn/core';
import { hostMemoryBytes } from '../src/hostMemory.js';

/**
 * Two survivors of the sampled mutation run of core (README "Mutation testing"): a storage's `alive` after its
 * last holder lets go, and the host memory bound that large CPU allocations are checked against.
 */
describe('Storage.alive', () => {
  it('stays true while any view holds the storage, and turns false when the last one lets go', () => {
    const x = tensor([1, 2, 3, 4]);
    const view = x.reshape([2, 2]);
    const storage = x.storage;
    expect(view.storage).toBe(storage);
    expect(storage.alive).toBe(true);
    x.dispose();
    expect(storage.alive).toBe(true);
    view.dispose();
    expect(storage.alive).toBe(false);
  });
});

describe('hostMemoryBytes', () => {
  it("is, in Node, a finite positive bound no larger than the machine's memory", () => {
    const bytes = hostMemoryBytes();
    expect(Number.isFinite(bytes)).toBe(true);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(totalmem());
  });
});
