import { floatTensor } from '../module/checks.js';
import { type Tensor, sigmoid } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** y = 1 / (1 + exp(-x)) elementwise (torch's nn.Sigmoid); the kernel is the numerically stable form. */
export class Sigmoid extends Module<Tensor, Tensor> {
  override updateOutput(input: Tensor): Tensor {
    return sigmoid(floatTensor(input));
  }
}
