"""Golden values for the Element-research recurrent modules of issue 12 (Torch parity), from PyTorch 1.13 (float64).

Run from anywhere:  /usr/bin/python3 scripts/golden/make_recurrent_parity.py

Writes packages/rnn/test/fixtures/seqlstmp.json, in make_fixtures.py's format (its helpers are reused): every case
records inputs, outputs and the grads of loss = sum(output * R).

- seqlstmp: Element-research's SeqLSTMP (an LSTM whose output h is projected, r = h Wo, and r is the recurrent
  input). For R < H this is torch.nn.LSTM(proj_size=R) itself; PyTorch refuses proj_size >= hidden_size, so the
  cases R == H (where our SeqLSTM has no projection but SeqLSTMP has one) and R > H run the same equations written
  with torch ops (checked against nn.LSTM on the R < H case first).
"""
import importlib.util
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("make_fixtures", os.path.join(HERE, "make_fixtures.py"))
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)
F64 = mf.F64


# ---- SeqLSTMP --------------------------------------------------------------------------------------------------

def lstmp_ops(x, h0, c0, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_hr_l0):
    """PyTorch's LSTM with projection, written out: gates i, f, g, o; c = f c + i g; h = o tanh(c); r = h W_hr^T."""
    H = weight_hh_l0.shape[0] // 4
    r, c, outs = h0, c0, []
    for t in range(x.shape[0]):
        a = x[t] @ weight_ih_l0.T + bias_ih_l0 + r @ weight_hh_l0.T + bias_hh_l0
        i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        r = (torch.sigmoid(o) * torch.tanh(c)) @ weight_hr_l0.T
        outs.append(r)
    return {"output": torch.stack(outs), "h_n": r, "c_n": c}


def seqlstmp_fixture():
    torch.manual_seed(21)
    cases = []
    for D, H, R, T, N in ((3, 5, 2, 4, 2), (2, 3, 3, 3, 2), (2, 2, 4, 3, 1)):
        if R < H:
            lstm = torch.nn.LSTM(D, H, proj_size=R).to(F64)
            w = mf.state_dict_inputs(lstm)
            x, h0, c0 = mf.randn(T, N, D), mf.randn(N, R), mf.randn(N, H)
            # The written-out equations are PyTorch's: checked on the case PyTorch can run.
            ref = lstmp_ops(x, h0, c0, **w)
            out, (hn, cn) = lstm(x, (h0[None], c0[None]))
            mf.close(ref["output"], out)
            mf.close(ref["c_n"], cn[0])

            def fn(x, h0, c0, **kw):
                out, (hn, cn) = lstm(x, (h0[None], c0[None]))
                return {"output": out, "h_n": hn[0], "c_n": cn[0]}

            cases.append(mf.case(f"nn.LSTM(proj_size) D={D} H={H} R={R} T={T} N={N}", fn,
                                 {"x": x, "h0": h0, "c0": c0, **w},
                                 {"D": D, "H": H, "R": R, "source": "torch.nn.LSTM(D, H, proj_size=R)"}, module=lstm))
        else:
            w = {"weight_ih_l0": mf.randn(4 * H, D) * 0.5, "weight_hh_l0": mf.randn(4 * H, R) * 0.5,
                 "bias_ih_l0": mf.randn(4 * H) * 0.5, "bias_hh_l0": mf.randn(4 * H) * 0.5,
                 "weight_hr_l0": mf.randn(R, H) * 0.5}
            x, h0, c0 = mf.randn(T, N, D), mf.randn(N, R), mf.randn(N, H)
            cases.append(mf.case(f"LSTM with projection (torch ops) D={D} H={H} R={R} T={T} N={N}", lstmp_ops,
                                 {"x": x, "h0": h0, "c0": c0, **w},
                                 {"D": D, "H": H, "R": R, "source": "PyTorch's LSTM equations with torch ops"}))
    mf.dump(f"{mf.RNN}/seqlstmp.json",
            "An LSTM with a projection (Element-research's SeqLSTMP), PyTorch's layout: weight_ih_l0 [4H, D], "
            "weight_hh_l0 [4H, R], bias_ih_l0 and bias_hh_l0 [4H] with gates i, f, g, o, weight_hr_l0 [R, H]. "
            "x [T, N, D], h0 [N, R], c0 [N, H]. Outputs: output [T, N, R], h_n, c_n. Grads of x, h0, c0 and every "
            "weight for loss = sum(output * R).", cases)


if __name__ == "__main__":
    seqlstmp_fixture()
    for p in mf.WRITTEN:
        print(f"{os.path.getsize(p):>7} bytes  {os.path.relpath(p, mf.ROOT)}")
