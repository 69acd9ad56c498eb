import { type Activity, expectTable, expectTensor } from '../../module/activity.js';
import { type Tensor, WebrnnError, noGrad, zerosLike } from '../../module/deps.js';
import { GatedRecurrent } from './GatedRecurrent.js';

/**
 * The state layout FastLSTM and LSTM share: state = [h, c] (previous output and cell), output = h; and the names
 * Element-research gives its parts (userPrevOutput, userPrevCell, gradPrevOutput, gradPrevCell, cell).
 */
export abstract class LSTMBase extends GatedRecurrent {
  /** Which of userPrevOutput / userPrevCell were set (the other part of userState is zeros). */
  private userGiven: [boolean, boolean] = [false, false];

  protected override initialState(input: Activity): Activity {
    return [this.zeroState(input), this.zeroState(input)];
  }

  /** The previous [h, c], checked against this step's input. */
  protected previous(x: Tensor, prevState: Activity | null): [Tensor, Tensor] {
    const s = expectTable('hidden state', prevState ?? []);
    if (s.length !== 2) throw new WebrnnError('hidden state', `expected [h, c], got ${s.length} entries`);
    const h = expectTensor('hidden state [h, c]', s[0]!);
    const c = expectTensor('hidden state [h, c]', s[1]!);
    this.checkState(x, h, 'output h');
    this.checkState(x, c, 'cell c');
    return [h, c];
  }

  /** The cell after the last step (Torch's lstm.cell). */
  get cell(): Tensor | null {
    const s = this.getHiddenState();
    return s ? ((s as readonly Activity[])[1] as Tensor) : null;
  }

  /** Initial output h(0) instead of zeros (for the first step after forget()); the cell defaults to zeros. */
  override get userPrevOutput(): Tensor | null {
    return this.userPart(0);
  }
  override set userPrevOutput(h: Tensor | null) {
    this.setUserPart(0, h);
  }

  /** Initial cell c(0) instead of zeros; the output defaults to zeros. */
  get userPrevCell(): Tensor | null {
    return this.userPart(1);
  }
  set userPrevCell(c: Tensor | null) {
    this.setUserPart(1, c);
  }

  /** Gradient with respect to h(0), once backward has reached the first step. */
  override get gradPrevOutput(): Tensor | null {
    return this.gradPart(0);
  }
  /** Gradient with respect to c(0), once backward has reached the first step. */
  get gradPrevCell(): Tensor | null {
    return this.gradPart(1);
  }
  /** Element-research's name for gradPrevOutput. */
  override get userGradPrevOutput(): Tensor | null {
    return this.gradPart(0);
  }
  /** Element-research's name for gradPrevCell. */
  get userGradPrevCell(): Tensor | null {
    return this.gradPart(1);
  }

  private userPart(k: 0 | 1): Tensor | null {
    const u = this.userState as readonly Activity[] | null;
    return u ? (u[k] as Tensor) : null;
  }

  private setUserPart(k: 0 | 1, t: Tensor | null): void {
    this.userGiven[k] = t !== null;
    const o = k === 0 ? 1 : 0;
    const other = this.userGiven[o] ? this.userPart(o) : null;
    if (!t && !other) {
      this.userGiven = [false, false];
      return this.setUserState(null);
    }
    // The missing part is zeros shaped like the given one (h and c have the same shape).
    const zero = noGrad(() => zerosLike((t ?? other)!));
    const parts: Tensor[] = [];
    parts[k] = t ?? zero;
    parts[k === 0 ? 1 : 0] = other ?? zero;
    this.setUserState(parts);
    zero.dispose();
  }

  private gradPart(k: 0 | 1): Tensor | null {
    const g = this.gradPrevState as readonly Activity[] | null;
    return g ? (g[k] as Tensor) : null;
  }
}
