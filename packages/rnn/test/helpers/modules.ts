import { nn } from '@webrnn/rnn';

/** {x, h} -> tanh(W x + U h + b): a step module for nn.Recurrence. */
export const rnnStep = (D: number, H: number) =>
  new nn.Sequential()
    .add(new nn.ParallelTable().add(new nn.Linear(D, H)).add(new nn.Linear(H, H)))
    .add(new nn.CAddTable())
    .add(new nn.Tanh());
