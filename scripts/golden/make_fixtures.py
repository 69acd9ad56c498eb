"""Golden values from PyTorch (Debian's python3-torch 1.13), written once into the test fixture folders.

Run: /usr/bin/python3 scripts/golden/make_fixtures.py
Every file: {"description", "cases": [{"name", "inputs", "params", "outputs", "grads"}]} where a tensor is
{"shape", "dtype", "data" (flat, row-major)} and grads are of loss = sum(output * R), R stored among the inputs.
"""
import json
import os

import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
torch.manual_seed(0)


def T(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "").replace("int64", "int32"),
            "data": t.detach().reshape(-1).tolist()}


def dump(path, description, cases):
    with open(os.path.join(ROOT, path), "w") as f:
        json.dump({"description": description, "cases": cases}, f)


# ---- core ---------------------------------------------------------------------------------------------------

def vjp_case(name, fn, inputs, params=None):
    """Run fn on float64 leaves, project the output on a random R, record outputs and input gradients."""
    leaves = {k: v.clone().requires_grad_(v.is_floating_point()) for k, v in inputs.items()}
    out = fn(**leaves)
    R = torch.randn_like(out)
    (out * R).sum().backward()
    grads = {k: T(v.grad) for k, v in leaves.items() if v.grad is not None}
    return {"name": name, "inputs": {**{k: T(v) for k, v in leaves.items()}, "R": T(R)}, "params": params or {},
            "outputs": {"output": T(out)}, "grads": grads}


d = torch.float64
core = []
core.append(vjp_case("matmul 2-D", lambda a, b: a @ b, {"a": torch.randn(3, 5, dtype=d), "b": torch.randn(5, 4, dtype=d)},
                     {"op": "matmul"}))
core.append(vjp_case("matmul batched, broadcast batch", lambda a, b: a @ b,
                     {"a": torch.randn(2, 3, 4, dtype=d), "b": torch.randn(4, 2, dtype=d)}, {"op": "matmul"}))
core.append(vjp_case("matmul transB", lambda a, b: a @ b.t(), {"a": torch.randn(3, 4, dtype=d), "b": torch.randn(5, 4, dtype=d)},
                     {"op": "matmul", "transB": True}))
for axis in (-1, 0):
    x = torch.randn(4, 6, dtype=d) * 30
    core.append(vjp_case(f"logSoftmax axis {axis}", lambda x: torch.log_softmax(x, axis), {"x": x},
                         {"op": "logSoftmax", "axis": axis}))
    core.append(vjp_case(f"softmax axis {axis}", lambda x: torch.softmax(x, axis), {"x": x}, {"op": "softmax", "axis": axis}))
for red in ("mean", "sum"):
    t = torch.randint(0, 5, (6,))
    core.append(vjp_case(f"nll {red}", lambda x: torch.nn.functional.nll_loss(x, t, reduction=red),
                         {"x": torch.log_softmax(torch.randn(6, 5, dtype=d), 1)}, {"op": "nll", "reduction": red, "target": T(t)}))
    core.append(vjp_case(f"crossEntropy {red}", lambda x: torch.nn.functional.cross_entropy(x, t, reduction=red),
                         {"x": torch.randn(6, 5, dtype=d) * 3}, {"op": "crossEntropy", "reduction": red, "target": T(t)}))
    y = torch.randn(3, 4, dtype=d)
    core.append(vjp_case(f"mse {red}", lambda x: torch.nn.functional.mse_loss(x, y, reduction=red),
                         {"x": torch.randn(3, 4, dtype=d)}, {"op": "mse", "reduction": red, "target": T(y)}))
    p = torch.rand(3, 4, dtype=d) * 0.9 + 0.05
    yb = torch.rand(3, 4, dtype=d)
    core.append(vjp_case(f"bce {red}", lambda x: torch.nn.functional.binary_cross_entropy(x, yb, reduction=red),
                         {"x": p}, {"op": "bce", "reduction": red, "target": T(yb)}))
dump("packages/core/test/fixtures/golden.json", "PyTorch 1.13 values for matmul, (log)softmax and the losses", core)


# ---- rnn ----------------------------------------------------------------------------------------------------

def lstm_case(name, steps, N, I, H, dtype):
    m = torch.nn.LSTM(I, H).to(dtype)
    x = torch.randn(steps, N, I, dtype=dtype, requires_grad=True)
    h0 = torch.randn(1, N, H, dtype=dtype, requires_grad=True)
    c0 = torch.randn(1, N, H, dtype=dtype, requires_grad=True)
    out, _ = m(x, (h0, c0))
    R = torch.randn_like(out)
    (out * R).sum().backward()
    ps = dict(m.named_parameters())
    return {"name": name, "inputs": {"x": T(x), "h0": T(h0), "c0": T(c0), "R": T(R)},
            "params": {"note": "PyTorch gate order i, f, g, o", **{k: T(v) for k, v in ps.items()}},
            "outputs": {"output": T(out)},
            "grads": {"x": T(x.grad), "h0": T(h0.grad), "c0": T(c0.grad), **{k: T(v.grad) for k, v in ps.items()}}}


def gru_case(name, steps, N, I, H, dtype, bhn0=False, diag=False, zeroh=False):
    """PyTorch's GRU applies r to (W_hn h + b_hn); Torch7's to h before the matmul. They agree when b_hn = 0 and
    either h0 = 0 with one step or W_hn is diagonal: those cases are made here."""
    m = torch.nn.GRU(I, H).to(dtype)
    with torch.no_grad():
        if bhn0:
            m.bias_hh_l0[2 * H:] = 0
        if diag:
            m.weight_hh_l0[2 * H:] = torch.diag(torch.randn(H, dtype=dtype))
    x = torch.randn(steps, N, I, dtype=dtype, requires_grad=True)
    h0 = (torch.zeros if zeroh else torch.randn)(1, N, H, dtype=dtype).requires_grad_()
    out, _ = m(x, h0)
    R = torch.randn_like(out)
    (out * R).sum().backward()
    ps = dict(m.named_parameters())
    return {"name": name, "inputs": {"x": T(x), "h0": T(h0), "R": T(R)},
            "params": {"note": "PyTorch gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
                       **{k: T(v) for k, v in ps.items()}},
            "outputs": {"output": T(out)}, "grads": {"x": T(x.grad), **{k: T(v.grad) for k, v in ps.items()}}}


dump("packages/rnn/test/fixtures/lstm.json", "PyTorch 1.13 nn.LSTM: one step and sequences",
     [lstm_case("one step f64", 1, 2, 3, 4, torch.float64), lstm_case("5 steps f64", 5, 3, 3, 4, torch.float64),
      lstm_case("5 steps f32", 5, 2, 3, 5, torch.float32)])
dump("packages/rnn/test/fixtures/gru.json", "PyTorch 1.13 nn.GRU in the cases where it equals Torch7's GRU",
     [gru_case("general", 4, 2, 3, 4, torch.float64), gru_case("bhn0 zero h0", 3, 2, 3, 4, torch.float64, bhn0=True, zeroh=True),
      gru_case("diag", 4, 2, 3, 4, torch.float64, bhn0=True, diag=True)])
