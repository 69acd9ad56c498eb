import { describe, expect, it } from 'vitest';
import { memory, tensor } from '@webrnn/rnn';
import { trainLoop } from '../src/shared/trainLoop.js';
import { quietly } from './helpers.js';

/** The training loop of the Element-research example translations (shared/trainLoop.ts). */
describe('trainLoop', () => {
  it('reads back the loss and the extra scalars of every iteration, and keeps no tensor', async () => {
    const before = memory().tensors;
    const seen: number[] = [];
    const r = await quietly(() =>
      trainLoop(
        'test',
        5,
        (i) => [tensor([i * 1.5]).sum(), tensor([i, 1]).sum()] as const,
        async (i) => {
          seen.push(i);
        },
      ),
    );
    expect(r.losses).toEqual([1.5, 3, 4.5, 6, 7.5]);
    expect(r.extras).toEqual([[2], [3], [4], [5], [6]]);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(r.stopped).toBe(false);
    expect(memory().tensors).toBe(before);
  });

  it('a SIGINT stops it after the iteration in progress, and the signal handlers are given back', async () => {
    const listeners = process.listenerCount('SIGINT');
    const r = await quietly(() =>
      trainLoop('test', 100, (i) => {
        if (i === 3) process.emit('SIGINT', 'SIGINT');
        return tensor([i]).sum();
      }),
    );
    expect(r.losses).toEqual([1, 2, 3]);
    expect(r.stopped).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});
