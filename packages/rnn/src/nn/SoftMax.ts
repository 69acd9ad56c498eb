import { floatTensor } from '../module/checks.js';
import { type Tensor, WebrnnError, fmtShape, softmax } from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * The dimension THNN's SoftMax and LogSoftMax normalise over: the features of a vector [C] or a batch [N, C],
 * and the channels of an image [C, H, W] or a batch of images [N, C, H, W]. Other ranks are refused, as in Torch.
 */
export function softmaxDim(x: Tensor): number {
  switch (x.rank) {
    case 1:
    case 3:
      return 0;
    case 2:
    case 4:
      return 1;
    default:
      throw new WebrnnError('input', `has shape ${fmtShape(x.shape)}, expected a 1D, 2D, 3D or 4D tensor`);
  }
}

/** exp(x_i) / sum_j exp(x_j) over the feature dimension (torch's nn.SoftMax); stable (the kernel subtracts the max). */
export class SoftMax extends Module<Tensor, Tensor> {
  override updateOutput(input: Tensor): Tensor {
    const x = floatTensor(input);
    return softmax(x, softmaxDim(x));
  }
}
