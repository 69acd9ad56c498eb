import { describe, expect, it } from 'vitest';
import { nn, randn } from '@webrnn/rnn';

describe('LSTM input checks', () => {
  const cases: [string, () => void, RegExp][] = [
    [
      'wrong feature size',
      () => new nn.FastLSTM(3, 4).forward(randn([2, 5])),
      /nn\.FastLSTM\(3 -> 4\): input: has shape \[2, 5\], expected \[N, 3\] or \[3\]/,
    ],
    [
      'rank 3',
      () => new nn.LSTM(3, 4).forward(randn([2, 2, 3])),
      /nn\.LSTM\(3 -> 4\): input: has shape \[2, 2, 3\], expected \[N, 3\]/,
    ],
    [
      'a table',
      () => new nn.FastLSTM(3, 4).forward([randn([2, 3])] as never),
      /nn\.FastLSTM\(3 -> 4\): input: expected a tensor/,
    ],
    [
      'batch size changing within a sequence',
      () => {
        const m = new nn.FastLSTM(3, 4);
        m.forward(randn([2, 3]));
        m.forward(randn([5, 3]));
      },
      /input: has shape \[5, 3\], but the previous output h has shape \[2, 4\] \(expected \[5, 4\]\): the batch size cannot change within a sequence; call forget\(\)/,
    ],
    [
      'userPrevOutput of the wrong batch',
      () => {
        const m = new nn.LSTM(3, 4);
        m.userPrevOutput = randn([3, 4]);
        m.forward(randn([2, 3]));
      },
      /previous output h has shape \[3, 4\]/,
    ],
    [
      'dtype differing from the parameters',
      () => new nn.FastLSTM(3, 4).double().forward(randn([2, 3])),
      /input: has dtype float32, but the parameters are float64/,
    ],
    [
      'backward before forward',
      () => new nn.FastLSTM(3, 4).backward(randn([2, 3]), randn([2, 4])),
      /nn\.FastLSTM\(3 -> 4\): backward: called before forward/,
    ],
    [
      'gradOutput of the wrong shape',
      () => {
        const m = new nn.LSTM(3, 4);
        const x = randn([2, 3]);
        m.forward(x);
        m.backward(x, randn([2, 5]));
      },
      /gradOutput is \[2, 5\], expected the step output's \[2, 4\]/,
    ],
    ['sizes', () => new nn.FastLSTM(0, 4), /inputSize must be a positive integer, got 0/],
    ['p out of range', () => new nn.LSTM(3, 4, 5, true, 1), /dropout p must satisfy 0 <= p < 1, got 1/],
    [
      'positional arguments and an options object',
      () => new nn.FastLSTM(3, 4, 5, { p: 0.5 }, null, null, 0.5),
      /nn.FastLSTM: either an options object as the 4th argument or the positional/,
    ],
    [
      'a positional p of the wrong type',
      () => new nn.FastLSTM(3, 4, 5, null, null, null, true as never),
      /nn.FastLSTM: p must be a number \(or null\), got true/,
    ],
    [
      'an unknown option',
      () => new nn.FastLSTM(3, 4, 5, { p: 0.1, batchNorm: true } as never),
      /^nn.FastLSTM: unknown option\(s\) batchNorm: expected p, mono, bn, eps, momentum, affine$/,
    ],
    [
      'an option of the wrong type',
      () => new nn.FastLSTM(3, 4, 5, { bn: 1 } as never),
      /^nn.FastLSTM: bn must be a boolean \(or null\), got 1$/,
    ],
    [
      'p out of range, positional',
      () => new nn.FastLSTM(3, 4, 5, null, null, null, 1),
      /dropout p must satisfy 0 <= p < 1, got 1/,
    ],
  ];
  for (const [name, f, re] of cases) it(name, () => expect(f).toThrow(re));
});
