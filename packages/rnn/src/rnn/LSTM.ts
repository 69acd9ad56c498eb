import type { Activity } from '../module/activity.js';
import { CMul } from '../nn/CMul.js';
import { type Tensor, add, cat, mul, select, tidy } from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import { asBatch, likeInput, maskedLinear } from './cells/GatedRecurrent.js';
import { LSTMBase } from './cells/LSTMBase.js';
import { lstmStep, peepholeLstmStep } from './cells/lstmCell.js';

/**
 * One gate (or the candidate "hidden layer") of nn.LSTM, as Torch builds it: input2gate = Linear(inputSize, H),
 * output2gate = Linear(H, H) without bias, and with peepholes cell2gate = CMul(H) (a diagonal weight).
 */
export interface LSTMGate {
  readonly i2g: Linear;
  readonly o2g: Linear;
  readonly c2g: CMul | null;
}

/**
 * Element-research's nn.LSTM: the peephole LSTM of Graves (arXiv:1303.5778), one gate per module as Torch builds it,
 *
 *   i = σ(Wi x + bi + Ui h_prev + wi ⊙ c_prev)      f = σ(Wf x + bf + Uf h_prev + wf ⊙ c_prev)
 *   z = tanh(Wz x + bz + Uz h_prev)                  c = f ⊙ c_prev + i ⊙ z
 *   o = σ(Wo x + bo + Uo h_prev + wo ⊙ c)            h = o ⊙ tanh(c)
 *
 * (the output gate's peephole sees the new cell). With `cell2gate = false` there are no peepholes and the module
 * computes exactly FastLSTM. The parameters are registered in the order Torch's `lstm:parameters()` lists them:
 * forget gate (W, b, U[, w]), input gate (W, b, U[, w]), hidden layer (W, b, U), output gate (W, b, U[, w]), so a
 * flat Torch parameter vector (getParameters) ports as it is. To port to or from FastLSTM, gate k of FastLSTM's
 * i2g/o2g (k = 0 input, 1 candidate, 2 forget, 3 output) is rows k*H..(k+1)*H-1 (see Element-research's
 * FastLSTM test).
 *
 * `p` turns on variational dropout (see GatedRecurrent): each gate's input2gate and output2gate see the input and
 * the previous output through their own masks; the peepholes are not dropped.
 */
export class LSTM extends LSTMBase {
  readonly inputGate: LSTMGate;
  readonly forgetGate: LSTMGate;
  readonly hiddenLayer: LSTMGate;
  readonly outputGate: LSTMGate;

  constructor(
    inputSize: number,
    outputSize: number = inputSize,
    rho?: number,
    readonly cell2gate = true,
    p = 0,
    mono = false,
  ) {
    super(inputSize, outputSize, rho, { p, mono });
    const gate = (peephole: boolean): LSTMGate => ({
      i2g: new Linear(inputSize, outputSize),
      o2g: new Linear(outputSize, outputSize, false),
      c2g: peephole ? new CMul(outputSize) : null,
    });
    // Torch's module tree visits the forget gate, the input gate, the hidden layer, then the output gate.
    this.forgetGate = gate(cell2gate);
    this.inputGate = gate(cell2gate);
    this.hiddenLayer = gate(false);
    this.outputGate = gate(cell2gate);
    for (const g of [this.forgetGate, this.inputGate, this.hiddenLayer, this.outputGate]) {
      this.add(g.i2g).add(g.o2g);
      if (g.c2g) this.add(g.c2g);
    }
  }

  protected override stepForward(
    input: Activity,
    prevState: Activity | null,
  ): { output: Activity; state: Activity } {
    const x = this.checkInput(input);
    const [hPrev, cPrev] = this.previous(x, prevState);
    return tidy(() => {
      const xb = asBatch(x);
      const hb = asBatch(hPrev);
      const cb = asBatch(cPrev);
      const masks = this.dropoutMasks(xb, 4, 4);
      // Gate k's affine part, k in FastLSTM's order (input, candidate, forget, output), each with its own masks.
      const pre = (g: LSTMGate, k: number): Tensor =>
        add(
          maskedLinear(masks ? mul(xb, select(masks.x, 0, k)) : xb, g.i2g, null),
          maskedLinear(masks ? mul(hb, select(masks.h, 0, k)) : hb, g.o2g, null),
        );
      const a = [
        pre(this.inputGate, 0),
        pre(this.hiddenLayer, 1),
        pre(this.forgetGate, 2),
        pre(this.outputGate, 3),
      ];
      const { h, c } = this.cell2gate
        ? peepholeLstmStep(
            { i: a[0]!, z: a[1]!, f: a[2]!, o: a[3]! },
            { i: this.inputGate.c2g!.weight, f: this.forgetGate.c2g!.weight, o: this.outputGate.c2g!.weight },
            cb,
          )
        : lstmStep(cat(a, 1), cb);
      const out = likeInput(x, h);
      return { output: out, state: [out, likeInput(x, c)] };
    });
  }
}
