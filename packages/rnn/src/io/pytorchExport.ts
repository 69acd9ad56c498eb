import { type Tensor, WebrnnError, typedArrayFor } from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import { LookupTable } from '../nn/LookupTable.js';
import type { Module } from '../module/Module.js';
import { SeqLSTM } from '../rnn/SeqLSTM.js';
import { type PyTorchSource, TORCH_GATE } from './pytorch.js';
import type { HostTensor } from './safetensors.js';
import { setOwn } from './safetensorsHeader.js';
import { childName } from './stateDict.js';

/**
 * The other way of `fromPyTorch`: a module's parameters in PyTorch's names and layouts, ready for
 * `encodeSafetensors` and Python's `safetensors.torch.load_file` + `load_state_dict`. The mapping is the same, from
 * each webrnn module path to the PyTorch module's prefix:
 *
 *   const dict = await io.toPyTorch(model, { '0': 'embed', '1': 'lstm', '2.0.0': 'fc' });
 *
 * LookupTable -> nn.Embedding `weight`; Linear -> nn.Linear `weight` (and `bias`); SeqLSTM -> one nn.LSTM layer
 * (`{ from: 'lstm', layer: k }` for layer k): `weight_ih_lk`, `weight_hh_lk` with the gate rows in PyTorch's order
 * (i, f, g, o), `bias_ih_lk` = the SeqLSTM bias and `bias_hh_lk` = 0 (PyTorch adds the two; their split is not
 * kept), and `weight_hr_lk` with a projection. Other modules are refused by name.
 */
export async function toPyTorch(
  module: Module,
  map: Record<string, PyTorchSource>,
): Promise<Record<string, HostTensor>> {
  const op = 'toPyTorch';
  const out: Record<string, HostTensor> = {};
  for (const [path, source] of Object.entries(map)) {
    const { from, layer = 0 } = typeof source === 'string' ? { from: source } : source;
    const m = moduleAt(module, path, op);
    const name = (n: string) => (from === '' ? n : `${from}.${n}`);
    if (m instanceof SeqLSTM) {
      for (const [k, v] of Object.entries(await lstmToTorch(m, layer))) setOwn(out, name(k), v);
    } else if (m instanceof Linear || m instanceof LookupTable) {
      const [params] = m.parameters();
      const names = m instanceof Linear && params.length === 2 ? ['weight', 'bias'] : ['weight'];
      for (let i = 0; i < names.length; i++) setOwn(out, name(names[i]!), await host(params[i]!));
    } else {
      throw new WebrnnError(
        op,
        `no PyTorch layout for ${m.typeName} at '${path}' (exported: LookupTable, Linear, SeqLSTM)`,
      );
    }
  }
  return out;
}

/** The module at a `stateDict` path ('' the root, '1', '2.0'). */
function moduleAt(root: Module, path: string, op: string): Module {
  let m = root;
  for (const seg of path === '' ? [] : path.split('.')) {
    const next = m.children().find((c, i) => childName(m, c, i) === seg);
    if (!next) throw new WebrnnError(op, `no module at '${path}' (no child '${seg}' in ${m.typeName})`);
    m = next;
  }
  return m;
}

async function host(t: Tensor): Promise<HostTensor> {
  return { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
}

async function lstmToTorch(m: SeqLSTM, layer: number): Promise<Record<string, HostTensor>> {
  const [weight, bias] = [await host(m.weight), await host(m.bias)];
  const wo = m.weightO ? await host(m.weightO) : null;
  const G = bias.shape[0]!;
  const H = G / 4;
  const R = wo ? wo.shape[1]! : H;
  const D = weight.shape[0]! - R;
  const dtype = weight.dtype;
  const ih = typedArrayFor(dtype, G * D);
  const hh = typedArrayFor(dtype, G * R);
  const bih = typedArrayFor(dtype, G);
  for (let gate = 0; gate < 4; gate++) {
    for (let j = 0; j < H; j++) {
      const col = gate * H + j;
      const row = TORCH_GATE[gate]! * H + j;
      for (let k = 0; k < D; k++) ih[row * D + k] = weight.data[k * G + col]!;
      for (let k = 0; k < R; k++) hh[row * R + k] = weight.data[(D + k) * G + col]!;
      bih[row] = bias.data[col]!;
    }
  }
  const l = `_l${layer}`;
  const out: Record<string, HostTensor> = {
    [`weight_ih${l}`]: { dtype, shape: [G, D], data: ih },
    [`weight_hh${l}`]: { dtype, shape: [G, R], data: hh },
    [`bias_ih${l}`]: { dtype, shape: [G], data: bih },
    [`bias_hh${l}`]: { dtype, shape: [G], data: typedArrayFor(dtype, G) },
  };
  if (wo) {
    const hr = typedArrayFor(dtype, R * H);
    for (let i = 0; i < H; i++) for (let r = 0; r < R; r++) hr[r * H + i] = wo.data[i * R + r]!;
    out[`weight_hr${l}`] = { dtype, shape: [R, H], data: hr };
  }
  return out;
}
