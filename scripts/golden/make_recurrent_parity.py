"""Golden values for the Element-research recurrent modules of issue 12 (Torch parity), from PyTorch 1.13 (float64).

Run from anywhere:  /usr/bin/python3 scripts/golden/make_recurrent_parity.py

Writes packages/rnn/test/fixtures/{seqlstmp,mufuru,fastlstm_bn}.json, in make_fixtures.py's format (its helpers are reused):
every case records inputs, outputs and the grads of loss = sum(output * R).

- seqlstmp: Element-research's SeqLSTMP (an LSTM whose output h is projected, r = h Wo, and r is the recurrent
  input). For R < H this is torch.nn.LSTM(proj_size=R) itself; PyTorch refuses proj_size >= hidden_size, so the
  cases R == H (where our SeqLSTM has no projection but SeqLSTMP has one) and R > H run the same equations written
  with torch ops (checked against nn.LSTM on the R < H case first).
- mufuru: Element-research's MuFuRu.lua (Weissenborn & Rocktaeschel 2016) written with torch ops over a sequence
  from h0 = 0: r = sigmoid(Wr x + br + Ur h + cr); v = sigmoid(Wv [x, r h] + bv); p = softmax over the ops of
  (Wp [x, h] + bp) viewed [N, K, H]; h = sum_k p_k op_k(h, v). Inputs are drawn so that h != v (sqrt_diff's
  derivative is finite).
- fastlstm_bn: Element-research's FastLSTM with bn = true (its nngraph model) with torch.nn.BatchNorm1d (eps 1e-5,
  momentum 0.1: Torch7's BatchNormalization, running variance unbiased): a training sequence from zero states
  (outputs, grads, the running statistics after it), then an evaluation sequence with those statistics.
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


# ---- MuFuRu ----------------------------------------------------------------------------------------------------

MUFURU_OPS = {
    "keep": lambda h, v: h,
    "replace": lambda h, v: v,
    "mul": lambda h, v: h * v,
    "diff": lambda h, v: h - v,
    "forget": lambda h, v: h * 0.0,
    "sqrt_diff": lambda h, v: 0.25 * torch.sqrt(torch.abs(h - v)),
    "max": lambda h, v: torch.maximum(h, v),
    "min": lambda h, v: torch.minimum(h, v),
}


def mufuru_fixture():
    torch.manual_seed(22)
    cases = []
    for ops, (D, H, T, N) in ((list(MUFURU_OPS), (3, 4, 4, 2)), (["keep", "replace"], (2, 3, 3, 2)),
                              (["sqrt_diff", "max", "min", "mul"], (2, 2, 3, 3))):
        K = len(ops)
        w = {"resetInput.weight": mf.randn(H, D) * 0.5, "resetInput.bias": mf.randn(H) * 0.5,
             "resetHidden.weight": mf.randn(H, H) * 0.5, "resetHidden.bias": mf.randn(H) * 0.5,
             "feature.weight": mf.randn(H, D + H) * 0.5, "feature.bias": mf.randn(H) * 0.5,
             "opWeights.weight": mf.randn(K * H, D + H) * 0.5, "opWeights.bias": mf.randn(K * H) * 0.5}

        def fn(x, **p):
            h = torch.zeros(x.shape[1], H, dtype=F64)
            outs = []
            for t in range(x.shape[0]):
                r = torch.sigmoid(x[t] @ p["resetInput.weight"].T + p["resetInput.bias"]
                                  + h @ p["resetHidden.weight"].T + p["resetHidden.bias"])
                v = torch.sigmoid(torch.cat([x[t], r * h], 1) @ p["feature.weight"].T + p["feature.bias"])
                logits = torch.cat([x[t], h], 1) @ p["opWeights.weight"].T + p["opWeights.bias"]
                pw = torch.softmax(logits.view(-1, K, H), 1)
                assert (h - v).abs().min() > 1e-3
                h = sum(pw[:, k] * MUFURU_OPS[op](h, v) for k, op in enumerate(ops))
                outs.append(h)
            return torch.stack(outs)

        cases.append(mf.case(f"MuFuRu D={D} H={H} T={T} N={N} ops={' '.join(ops)}", fn,
                             {"x": mf.randn(T, N, D), **w}, {"ops": ops, "D": D, "H": H}))
    mf.dump(f"{mf.RNN}/mufuru.json",
            "Element-research's MuFuRu over a sequence from h0 = 0, written with torch ops. Parameters by our "
            "names (resetInput, resetHidden, feature, opWeights; Linear layout weight [out, in], bias [out]); "
            "params.ops lists the operations in order. x [T, N, D]; output [T, N, H]; grads of x and every "
            "parameter for loss = sum(output * R).", cases)


# ---- FastLSTM with recurrent batch normalisation ------------------------------------------------------------------

def fastlstm_bn_fixture():
    torch.manual_seed(23)
    F = torch.nn.functional
    cases = []
    for D, H, T, N, affine in ((3, 4, 3, 4, True), (2, 3, 4, 2, True), (2, 2, 3, 3, False)):
        w = {"i2g.weight": mf.randn(4 * H, D) * 0.5, "i2g.bias": mf.randn(4 * H) * 0.5,
             "o2g.weight": mf.randn(4 * H, H) * 0.5, "biasWh.bias": mf.randn(4 * H) * 0.5}
        sizes = {"bnWx": 4 * H, "bnWh": 4 * H, "bnC": H}
        if affine:
            for name, size in sizes.items():
                w[f"{name}.weight"] = mf.randn(size) * 0.5
                w[f"{name}.bias"] = mf.randn(size) * 0.5
        x2 = mf.randn(T, N, D)

        def fn(x, **p):
            # torch.nn.BatchNorm1d's computation (F.batch_norm), with the running statistics held here.
            stats = {f"{n}.{k}": (torch.zeros(s, dtype=F64) if k == "running_mean" else torch.ones(s, dtype=F64))
                     for n, s in sizes.items() for k in ("running_mean", "running_var")}

            def bn(name, v, train):
                return F.batch_norm(v, stats[f"{name}.running_mean"], stats[f"{name}.running_var"],
                                    p.get(f"{name}.weight"), p.get(f"{name}.bias"), train, 0.1, 1e-5)

            def run(xs, train):
                h = torch.zeros(xs.shape[1], H, dtype=F64)
                c = torch.zeros(xs.shape[1], H, dtype=F64)
                outs = []
                for t in range(xs.shape[0]):
                    a = (bn("bnWx", xs[t] @ p["i2g.weight"].T + p["i2g.bias"], train)
                         + bn("bnWh", h @ p["o2g.weight"].T, train) + p["biasWh.bias"])
                    i, z, f, o = (a[:, k * H:(k + 1) * H] for k in range(4))
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(z)
                    h = torch.sigmoid(o) * torch.tanh(bn("bnC", c, train))
                    outs.append(h)
                return torch.stack(outs)

            out = run(x, True)
            after = {k: v.clone() for k, v in stats.items()}
            with torch.no_grad():
                evaluated = run(x2, False)
            return {"output": out, "evaluated": evaluated, **after}

        cases.append(mf.case(f"FastLSTM bn D={D} H={H} T={T} N={N} affine={affine}", fn,
                             {"x": mf.randn(T, N, D), "x2": x2, **w}, {"D": D, "H": H, "affine": affine},
                             wrt=["x", *w]))
    mf.dump(f"{mf.RNN}/fastlstm_bn.json",
            "Element-research's FastLSTM with bn = true, written with torch ops and torch.nn.BatchNorm1d (eps 1e-5, "
            "momentum 0.1): a = BN_wx(x i2g.weight^T + i2g.bias) + BN_wh(h o2g.weight^T) + biasWh.bias, gates i, z, "
            "f, o; c = sigmoid(f) c + sigmoid(i) tanh(z); h = sigmoid(o) tanh(BN_c(c)). Parameters by our names. "
            "Training over x [T, N, D] from zero states: output, grads for loss = sum(output * R), and the running "
            "statistics after it (name.running_mean, name.running_var); then evaluated = the model in evaluation "
            "mode over x2 from zero states.", cases)


if __name__ == "__main__":
    seqlstmp_fixture()
    mufuru_fixture()
    fastlstm_bn_fixture()
    for p in mf.WRITTEN:
        print(f"{os.path.getsize(p):>7} bytes  {os.path.relpath(p, mf.ROOT)}")
