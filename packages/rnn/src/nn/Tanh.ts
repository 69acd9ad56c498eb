import { floatTensor } from './checks.js';
import { type Tensor, tanh } from './deps.js';
import { Module } from './Module.js';

/** y = tanh(x) elementwise (torch's nn.Tanh). */
export class Tanh extends Module<Tensor, Tensor> {
  override updateOutput(input: Tensor): Tensor {
    return tanh(floatTensor(input));
  }
}
