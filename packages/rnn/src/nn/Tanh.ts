import { floatTensor } from '../module/checks.js';
import { type Tensor, tanh } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** y = tanh(x) elementwise (torch's nn.Tanh). */
export class Tanh extends Module<Tensor, Tensor> {
  override updateOutput(input: Tensor): Tensor {
    return tanh(floatTensor(input));
  }
}
