import { defaultGenerator } from '@webrnn/rnn';

/**
 * The dummy data set of Element-research's sequence-to-one.lua ("similar to sentiment analysis datasets"): each
 * sample is `rho` words and a class. To make the words correlate with the class, every class c has a random
 * table correlate[c] of rho*3 words (drawn from 1..nClass, as Lua's `random(nClass)`), and a sample of class c is
 * rho entries of correlate[c] at random positions, sorted. Words and classes are 0-based here.
 */
export interface SequenceToOneData {
  /** size samples of rho words each (0..nClass-1). */
  readonly inputs: number[][];
  /** The class of each sample (0..nClass-1). */
  readonly targets: number[];
}

const randint = (n: number) => Math.floor(defaultGenerator.next() * n); // 0..n-1

export function sequenceToOneData(size: number, rho: number, nClass: number): SequenceToOneData {
  // ds.target = torch.LongTensor(ds.size):random(nClass)
  const targets = Array.from({ length: size }, () => randint(nClass));
  // correlate = torch.LongTensor(nClass, rho*3):random(nClass)
  const correlate = Array.from({ length: nClass }, () =>
    Array.from({ length: rho * 3 }, () => randint(nClass)),
  );
  const inputs = targets.map((c) => {
    // indices:random(1, rho*3); buffer:index(correlate[c], 1, indices); sortVal:sort(sortIdx, buffer, 1)
    const words = Array.from({ length: rho }, () => correlate[c]![randint(rho * 3)]!);
    return words.sort((a, b) => a - b);
  });
  return { inputs, targets };
}
