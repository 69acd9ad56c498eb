"""Golden reference values from PyTorch (Debian's python3-torch 1.13, CPU), written into the test fixture folders.

Run from anywhere:  /usr/bin/python3 scripts/golden/make_fixtures.py

The fixtures are committed; PyTorch is never a runtime or test dependency. Every computation is float64 and
seeded, so a rerun writes byte-identical files.

Format of every file written here:
  {"description": str,
   "cases": [{"name": str,
              "inputs":  {name: tensor, ...},   # "R" among them when there are grads
              "params":  {...},                 # scalars (axis, reduction, ...), notes, and "loss" when grads exist
              "outputs": {name: tensor, ...},   # "output" is always the one projected on R
              "grads":   {input name: tensor, ...}}]}
  tensor = {"shape": [...], "dtype": "float64" | "int32", "data": [flat, row-major numbers]}   (shape [] = scalar)
Grads are d loss / d input for loss = sum(output * R), R a random tensor of output's shape stored as inputs["R"]
(so they are the vector-Jacobian product of output with R). Floats are written with Python's repr (shortest string
that round-trips the float64 exactly).

Also regenerated, byte for byte as before: packages/core/test/fixtures/golden.json (read by core/test/golden.test.ts).
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORE = "packages/core/test/fixtures"
RNN = "packages/rnn/test/fixtures"
F64 = torch.float64
LOSS = "sum(output * R): grads are d loss / d input, R = inputs.R has output's shape"
WRITTEN = []


# ---- legacy: golden.json, kept exactly as the first version of this script wrote it ---------------------------

def legacy_golden():
    torch.manual_seed(0)

    def T(t):
        return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "").replace("int64", "int32"),
                "data": t.detach().reshape(-1).tolist()}

    def vjp_case(name, fn, inputs, params=None):
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
    path = os.path.join(ROOT, CORE, "golden.json")
    with open(path, "w") as f:
        json.dump({"description": "PyTorch 1.13 values for matmul, (log)softmax and the losses", "cases": core}, f)
    WRITTEN.append(path)


# ---- helpers ---------------------------------------------------------------------------------------------------

def T(t):
    """A tensor as {shape, dtype, data}: floats as float64, integers as int32."""
    t = t.detach()
    if t.is_floating_point():
        return {"shape": list(t.shape), "dtype": "float64", "data": [float(v) for v in t.to(F64).reshape(-1).tolist()]}
    data = [int(v) for v in t.reshape(-1).tolist()]
    assert all(-2**31 <= v < 2**31 for v in data)
    return {"shape": list(t.shape), "dtype": "int32", "data": data}


def randn(*shape):
    return torch.randn(shape, dtype=F64)


def uniform(lo, hi, *shape):
    return torch.rand(shape, dtype=F64) * (hi - lo) + lo


def away(x, points, lo, hi, eps=0.05):
    """Redraw (uniform in [lo, hi)) every entry within eps of one of the points (kinks, ties)."""
    x = x.clone()
    while True:
        bad = torch.zeros_like(x, dtype=torch.bool)
        for p in points:
            bad |= (x - p).abs() < eps
        if not bad.any():
            return x
        x[bad] = uniform(lo, hi, int(bad.sum()))


def case(name, fn, inputs, params=None, wrt=None, module=None):
    """Run fn(**inputs) in float64; fn returns a tensor or a dict of named tensors whose "output" is projected on a
    random R. Float inputs (or those named in wrt) are differentiated; their grads are recorded. With a module, the
    inputs named like its parameters are loaded into it first and their grads are read from its parameters."""
    pnames = dict(module.named_parameters()) if module is not None else {}
    if module is not None:
        load(module, inputs)
        module.zero_grad(set_to_none=True)
    leaves = {}
    for k, v in inputs.items():
        v = v.detach().clone()
        if v.is_floating_point() and k not in pnames and (wrt is None or k in wrt):
            v.requires_grad_()
        leaves[k] = v
    res = fn(**leaves)
    outs = dict(res) if isinstance(res, dict) else {"output": res}
    out = outs["output"]
    rec_inputs = {k: T(v) for k, v in leaves.items()}
    params = dict(params or {})
    grads = {}
    if out.is_floating_point() and out.requires_grad:
        R = randn(*out.shape)
        (out * R).sum().backward()
        rec_inputs["R"] = T(R)
        params["loss"] = LOSS
        for k, v in leaves.items():
            g = pnames[k] if k in pnames else v
            if g.requires_grad:
                grads[k] = T(g.grad if g.grad is not None else torch.zeros_like(g))
    return {"name": name, "inputs": rec_inputs, "params": params, "outputs": {k: T(v) for k, v in outs.items()},
            "grads": grads}


def dump(path, description, cases):
    """One case per line; NaN/Infinity refused."""
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    body = ",\n".join(json.dumps(c, allow_nan=False, separators=(",", ":")) for c in cases)
    with open(full, "w") as f:
        f.write('{"description":' + json.dumps(description) + ',"cases":[\n' + body + "\n]}\n")
    size = os.path.getsize(full)
    assert size < 100_000, f"{path} is {size} bytes"
    WRITTEN.append(full)


# ---- core: matmul ----------------------------------------------------------------------------------------------

def matmul_fixture():
    torch.manual_seed(1)

    def op(transA, transB):
        def f(a, b):
            return torch.matmul(a.transpose(-1, -2) if transA else a, b.transpose(-1, -2) if transB else b)
        return f

    specs = [
        ("2-D [3,5] @ [5,4]", (3, 5), (5, 4), False, False),
        ("batched [2,3,4] @ [2,4,5]", (2, 3, 4), (2, 4, 5), False, False),
        ("broadcast batch [2,3,4] @ [4,5] (b shared by the batch)", (2, 3, 4), (4, 5), False, False),
        ("broadcast batch [3,4] @ [2,4,5] (a shared by the batch)", (3, 4), (2, 4, 5), False, False),
        ("broadcast batch [1,3,4] @ [2,4,5] (batch 1 against 2)", (1, 3, 4), (2, 4, 5), False, False),
        ("broadcast batch 4-D [2,1,3,4] @ [3,4,2]", (2, 1, 3, 4), (3, 4, 2), False, False),
        ("transB 2-D [3,4] @ [5,4]^T", (3, 4), (5, 4), False, True),
        ("transA 2-D [4,3]^T @ [4,5]", (4, 3), (4, 5), True, False),
        ("transA transB 2-D [4,3]^T @ [5,4]^T", (4, 3), (5, 4), True, True),
        ("transB batched [2,3,4] @ [2,5,4]^T", (2, 3, 4), (2, 5, 4), False, True),
        ("transA broadcast batch [2,4,3]^T @ [4,5]", (2, 4, 3), (4, 5), True, False),
    ]
    cases = [case(f"matmul {name}", op(tA, tB), {"a": randn(*sa), "b": randn(*sb)},
                  {"op": "matmul", "transA": tA, "transB": tB}) for name, sa, sb, tA, tB in specs]
    dump(f"{CORE}/matmul.json",
         "PyTorch 1.13 torch.matmul, float64. output = opA(a) @ opB(b) where opA swaps the last two axes of a when "
         "params.transA (likewise b, transB); a and b are stored untransposed, as they are passed. Leading (batch) "
         "axes broadcast as in torch.matmul; a 2-D operand is shared by every batch. Grads are w.r.t. the stored a "
         "and b (reduced over broadcast batch axes) for loss = sum(output * R).", cases)


# ---- core: softmax ---------------------------------------------------------------------------------------------

def softmax_fixture():
    torch.manual_seed(2)
    large = uniform(-80, 80, 4, 5)
    large[0, 0], large[1, 1], large[2, 2], large[3, 3] = 80.0, -80.0, 79.5, -79.5
    large[3] = torch.tensor([80.0, 79.0, 78.5, -80.0, 75.0], dtype=F64)
    xs = [
        ("randn [4,5]", randn(4, 5) * 2),
        ("large magnitudes up to +-80 [4,5]", large),
        ("very large magnitudes up to +-1000 [3,4] (naive exp overflows float64)", uniform(-1000, 1000, 3, 4)),
        ("3-D [2,3,4]", randn(2, 3, 4) * 3),
    ]
    cases = []
    for xname, x in xs:
        for opname, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
            for axis in (-1, 0):
                cases.append(case(f"{opname} axis {axis} {xname}", lambda x, fn=fn, axis=axis: fn(x, axis), {"x": x},
                                  {"op": opname, "axis": axis}))
    dump(f"{CORE}/softmax.json",
         "PyTorch 1.13 torch.softmax / torch.log_softmax along params.axis (as given to PyTorch: -1 is the last "
         "axis), float64, including large-magnitude inputs that need the max subtracted. Grads w.r.t. x for "
         "loss = sum(output * R).", cases)


# ---- core: losses ----------------------------------------------------------------------------------------------

def losses_fixture():
    torch.manual_seed(3)
    N, C = 6, 5
    cases = []
    for red in ("mean", "sum"):
        t = torch.randint(0, C, (N,), dtype=torch.int64)
        logp = torch.log_softmax(randn(N, C), 1)
        cases.append(case(f"nll_loss {red} [6,5]", lambda x, target, red=red: F.nll_loss(x, target, reduction=red),
                          {"x": logp, "target": t}, {"op": "nll_loss", "reduction": red}, wrt=["x"]))
    for red in ("mean", "sum"):
        t = torch.randint(0, C, (N,), dtype=torch.int64)
        cases.append(case(f"cross_entropy {red} [6,5]",
                          lambda x, target, red=red: F.cross_entropy(x, target, reduction=red),
                          {"x": randn(N, C) * 3, "target": t}, {"op": "cross_entropy", "reduction": red}, wrt=["x"]))
    for red in ("mean", "sum"):
        cases.append(case(f"mse_loss {red} [3,4]", lambda x, target, red=red: F.mse_loss(x, target, reduction=red),
                          {"x": randn(3, 4), "target": randn(3, 4)}, {"op": "mse_loss", "reduction": red}, wrt=["x"]))
    for red in ("mean", "sum"):
        cases.append(case(f"binary_cross_entropy {red} [3,4] soft targets",
                          lambda x, target, red=red: F.binary_cross_entropy(x, target, reduction=red),
                          {"x": uniform(0.05, 0.95, 3, 4), "target": uniform(0, 1, 3, 4)},
                          {"op": "binary_cross_entropy", "reduction": red}, wrt=["x"]))
    for red in ("mean", "sum"):
        cases.append(case(f"binary_cross_entropy {red} [5] 0/1 targets",
                          lambda x, target, red=red: F.binary_cross_entropy(x, target, reduction=red),
                          {"x": uniform(0.05, 0.95, 5), "target": torch.randint(0, 2, (5,)).to(F64)},
                          {"op": "binary_cross_entropy", "reduction": red}, wrt=["x"]))
    dump(f"{CORE}/losses.json",
         "PyTorch 1.13 losses, float64, output a scalar (shape []). inputs.x is the prediction (log-probabilities "
         "[N,C] for nll_loss, logits [N,C] for cross_entropy, probabilities in (0.05,0.95) for "
         "binary_cross_entropy); inputs.target holds 0-based class indices (int32 [N]) for nll_loss/cross_entropy "
         "and float64 values of x's shape for mse_loss/binary_cross_entropy. params.reduction: 'mean' (over all "
         "elements; for nll/cross_entropy over the N samples) or 'sum'. No class weights. Grads only w.r.t. x, for "
         "loss = sum(output * R) with R a scalar. PyTorch clamps log() in binary_cross_entropy at -100 (never "
         "reached here); Torch7 adds 1e-12 inside the logs instead, a difference near 1e-11.", cases)


# ---- core: reductions ------------------------------------------------------------------------------------------

def reductions_fixture():
    torch.manual_seed(4)

    def distinct(*shape):
        while True:
            x = randn(*shape)
            v = x.reshape(-1).sort().values
            if (v[1:] - v[:-1]).min() > 1e-3:
                return x

    x2, x3 = distinct(3, 4), distinct(2, 3, 4)
    cases = []
    for opname, fn in (("sum", torch.sum), ("mean", torch.mean)):
        for axis in (0, 1):
            for keep in (False, True):
                cases.append(case(f"{opname} [3,4] axis {axis} keepdim {keep}",
                                  lambda x, fn=fn, axis=axis, keep=keep: fn(x, axis, keepdim=keep), {"x": x2},
                                  {"op": opname, "axis": axis, "keepdim": keep}))
        for keep in (False, True):
            cases.append(case(f"{opname} [2,3,4] axis 1 keepdim {keep}",
                              lambda x, fn=fn, keep=keep: fn(x, 1, keepdim=keep), {"x": x3},
                              {"op": opname, "axis": 1, "keepdim": keep}))
        cases.append(case(f"{opname} [2,3,4] axes [0,2] keepdim False",
                          lambda x, fn=fn: fn(x, (0, 2), keepdim=False), {"x": x3},
                          {"op": opname, "axis": [0, 2], "keepdim": False}))
        cases.append(case(f"{opname} [2,3,4] all elements", lambda x, fn=fn: fn(x), {"x": x3},
                          {"op": opname, "axis": None, "keepdim": False}))
    for opname, fn in (("max", torch.max), ("min", torch.min)):
        for axis in (0, 1):
            for keep in (False, True):
                def f(x, fn=fn, axis=axis, keep=keep):
                    values, indices = fn(x, axis, keepdim=keep)
                    return {"output": values, "indices": indices}
                cases.append(case(f"{opname} [3,4] axis {axis} keepdim {keep}", f, {"x": x2},
                                  {"op": opname, "axis": axis, "keepdim": keep}))
        def f3(x, fn=fn):
            values, indices = fn(x, 1)
            return {"output": values, "indices": indices}
        cases.append(case(f"{opname} [2,3,4] axis 1 keepdim False", f3, {"x": x3},
                          {"op": opname, "axis": 1, "keepdim": False}))
        cases.append(case(f"{opname} [2,3,4] all elements", lambda x, fn=fn: fn(x), {"x": x3},
                          {"op": opname, "axis": None, "keepdim": False}))
    for opname, fn in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        for axis in (0, 1):
            for keep in (False, True):
                cases.append(case(f"{opname} [3,4] axis {axis} keepdim {keep}",
                                  lambda x, fn=fn, axis=axis, keep=keep: fn(x, axis, keepdim=keep), {"x": x2},
                                  {"op": opname, "axis": axis, "keepdim": keep}))
        cases.append(case(f"{opname} [2,3,4] axis 2", lambda x, fn=fn: fn(x, 2), {"x": x3},
                          {"op": opname, "axis": 2, "keepdim": False}))
        cases.append(case(f"{opname} [2,3,4] all elements (flat row-major index)", lambda x, fn=fn: fn(x), {"x": x3},
                          {"op": opname, "axis": None, "keepdim": False}))
    dump(f"{CORE}/reductions.json",
         "PyTorch 1.13 reductions, float64, inputs without ties (entries differ by > 1e-3). params.axis: one axis, a "
         "list of axes, or null for all elements (then the output is a scalar, shape []); params.keepdim as in "
         "PyTorch. max/min along an axis also give outputs.indices (int32, 0-based position of the extreme along "
         "the axis); argmax/argmin output int32 indices (for axis null: the flat row-major index) and have no grads "
         "and no R. Grads w.r.t. x for loss = sum(output * R) (output = the values for max/min).", cases)


# ---- core: elementwise -----------------------------------------------------------------------------------------

def elementwise_fixture():
    torch.manual_seed(5)
    cases = []
    unary = [
        ("exp", torch.exp, randn(3, 4), {}),
        ("log", torch.log, uniform(0.1, 3, 3, 4), {}),
        ("sqrt", torch.sqrt, uniform(0.1, 3, 3, 4), {}),
        ("tanh", torch.tanh, randn(3, 4) * 1.5, {}),
        ("sigmoid", torch.sigmoid, randn(3, 4) * 3, {}),
        ("relu", torch.relu, away(randn(3, 4), [0], -2, 2), {}),
        ("abs", torch.abs, away(randn(3, 4), [0], -2, 2), {}),
        ("hardtanh", lambda x: F.hardtanh(x, -1.0, 1.0), away(uniform(-3, 3, 3, 4), [-1, 1], -3, 3),
         {"min": -1.0, "max": 1.0}),
        ("hardtanh", lambda x: F.hardtanh(x, -0.5, 2.0), away(uniform(-3, 3, 3, 4), [-0.5, 2], -3, 3),
         {"min": -0.5, "max": 2.0}),
    ]
    for opname, fn, x, p in unary:
        if opname == "hardtanh":  # every region is visited
            assert (x < p["min"]).any() and ((x > p["min"]) & (x < p["max"])).any() and (x > p["max"]).any()
        suffix = f" min {p['min']} max {p['max']}" if p else ""
        cases.append(case(f"{opname}{suffix} [3,4]", lambda x, fn=fn: fn(x), {"x": x}, {"op": opname, **p}))

    def nonzero(*shape):
        return torch.where(torch.rand(*shape) < 0.5, -1.0, 1.0).to(F64) * uniform(0.5, 2, *shape)

    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    }
    shapes = [("[3,4] with [3,4]", (3, 4), (3, 4)), ("broadcast [3,1,4] with [5,1]", (3, 1, 4), (5, 1))]
    for sname, sa, sb in shapes:
        for opname, fn in binary.items():
            if opname == "pow":
                a, b = uniform(0.2, 3, *sa), randn(*sb)  # positive base, random exponent tensor
            elif opname == "div":
                a, b = randn(*sa), nonzero(*sb)
            else:
                a, b = randn(*sa), randn(*sb)
            cases.append(case(f"{opname} {sname}", lambda a, b, fn=fn: fn(a, b), {"a": a, "b": b}, {"op": opname}))
    cases.append(case("div broadcast [5,1] with [3,1,4]", lambda a, b: a / b, {"a": randn(5, 1), "b": nonzero(3, 1, 4)},
                      {"op": "div"}))
    cases.append(case("pow broadcast [5,1] with [3,1,4]", lambda a, b: a ** b,
                      {"a": uniform(0.2, 3, 5, 1), "b": randn(3, 1, 4)}, {"op": "pow"}))
    dump(f"{CORE}/elementwise.json",
         "PyTorch 1.13 elementwise ops, float64. Unary ops take inputs.x: exp, log and sqrt (x in [0.1, 3)), tanh, "
         "sigmoid, relu and abs (|x| >= 0.05, away from the kink), hardtanh with params.min/max (x at least 0.05 "
         "from both, every region visited). Binary ops compute output = op(a, b): add, sub, mul, div (|b| >= 0.5), "
         "pow (a ** b, a in [0.2, 3), b a random exponent tensor); shapes broadcast as in NumPy ([3,1,4] with [5,1] "
         "gives [3,5,4]). Grads w.r.t. every float input for loss = sum(output * R), reduced to the input's shape.",
         cases)


# ---- rnn notes -------------------------------------------------------------------------------------------------

LSTM_NOTE = (
    "PyTorch gate order i, f, g, o. weight_ih [4H, D] and weight_hh [4H, H] stack four row blocks: rows 0..H-1 the "
    "input gate i, rows H..2H-1 the forget gate f, rows 2H..3H-1 the cell candidate g, rows 3H..4H-1 the output gate "
    "o; bias_ih and bias_hh [4H] are stacked the same way and both are added. Per step, with x [N, D] and h, c "
    "[N, H]: a = x W_ih^T + b_ih + h W_hh^T + b_hh; i = sigmoid(a[:, 0:H]); f = sigmoid(a[:, H:2H]); "
    "g = tanh(a[:, 2H:3H]); o = sigmoid(a[:, 3H:4H]); c' = f * c + i * g; h' = o * tanh(c'). No peepholes. "
    "Element-research FastLSTM stacks its blocks as i, g (the 'hidden' transform), f, o and has one bias on the input "
    "Linear only: FastLSTM block k = PyTorch block [0, 2, 1, 3][k], its bias = b_ih + b_hh (as in "
    "packages/rnn/test/lstmHelpers.ts loadPyTorchLSTM).")
GRU_NOTE = (
    "PyTorch gate order r, z, n. weight_ih [3H, D] and weight_hh [3H, H] stack three row blocks: rows 0..H-1 the "
    "reset gate r, rows H..2H-1 the update gate z, rows 2H..3H-1 the new (candidate) gate n; bias_ih and bias_hh "
    "[3H] likewise. Per step, with x [N, D] and h [N, H]: r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr); "
    "z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz); n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)); "
    "h' = (1 - z) * n + z * h. IMPORTANT: PyTorch applies r AFTER the hidden-to-hidden matmul and to its bias too: "
    "r * (W_hn h + b_hn). Torch7 / Element-research nn.GRU applies r to h BEFORE the matmul and has no hidden bias "
    "there: n = tanh(W_in x + b_in + W_hn (r * h)) (its update h' = (1 - z) * n + z * h is the same as PyTorch's). The "
    "two agree only when b_hn = 0 and either W_hn is diagonal or h = 0 (e.g. the first step from a zero state). For "
    "r and z the biases simply add: Torch7's gate bias = b_ih[0:2H] + b_hh[0:2H].")


def state_dict_inputs(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def load(m, weights):
    with torch.no_grad():
        for k, v in m.named_parameters():
            v.copy_(weights[k])


def ref_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[-1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c2), c2


def ref_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[-1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h


def close(a, b):
    assert torch.allclose(a, b, rtol=0, atol=1e-13), (a - b).abs().max()


# ---- rnn: LSTM -------------------------------------------------------------------------------------------------

def lstm_fixture():
    torch.manual_seed(6)
    D, H, N, TT = 3, 4, 2, 5
    cell = torch.nn.LSTMCell(D, H).to(F64)
    lstm = torch.nn.LSTM(D, H).to(F64)
    cw, sw = state_dict_inputs(cell), state_dict_inputs(lstm)
    cases = []

    for state in ("zero", "nonzero"):
        h0 = randn(N, H) if state == "nonzero" else torch.zeros(N, H, dtype=F64)
        c0 = randn(N, H) if state == "nonzero" else torch.zeros(N, H, dtype=F64)

        def step(x, h0, c0, **w):
            h1, c1 = cell(x, (h0, c0))
            close(h1, ref_lstm_step(x, h0, c0, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])[0])
            return {"output": h1, "h_n": h1, "c_n": c1}

        cases.append(case(f"LSTMCell one step, {state} h0/c0", step, {"x": randn(N, D), "h0": h0, "c0": c0, **cw},
                          {"module": "torch.nn.LSTMCell(3, 4)", "input_size": D, "hidden_size": H, "batch": N,
                           "gate_order": LSTM_NOTE,
                           "layout": "x [N, D]; h0, c0, output (= h'), h_n (= h'), c_n (= c') [N, H]"}, module=cell))
    for state in ("zero", "nonzero"):
        h0 = randn(1, N, H) if state == "nonzero" else torch.zeros(1, N, H, dtype=F64)
        c0 = randn(1, N, H) if state == "nonzero" else torch.zeros(1, N, H, dtype=F64)

        def seq(x, h0, c0, **w):
            out, (hn, cn) = lstm(x, (h0, c0))
            h, c, ref = h0[0], c0[0], []
            for t in range(x.shape[0]):
                h, c = ref_lstm_step(x[t], h, c, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
                ref.append(h)
            close(out, torch.stack(ref))
            close(cn[0], c)
            return {"output": out, "h_n": hn, "c_n": cn}

        cases.append(case(f"LSTM {TT} steps, {state} h0/c0", seq, {"x": randn(TT, N, D), "h0": h0, "c0": c0, **sw},
                          {"module": "torch.nn.LSTM(3, 4), num_layers 1, batch_first False", "input_size": D,
                           "hidden_size": H, "batch": N, "steps": TT, "gate_order": LSTM_NOTE,
                           "layout": "x [T, N, D] (time first); h0, c0, h_n, c_n [1, N, H]; output [T, N, H] = h "
                                     "after every step; h_n = output[T-1]; c_n = the final cell"}, module=lstm))
    # The one-step cell and a one-step nn.LSTM with the same weights agree.
    lstm1 = torch.nn.LSTM(D, H).to(F64)
    load(lstm1, {k + "_l0": v for k, v in cw.items()})
    x = randn(1, N, D)
    load(cell, cw)
    close(lstm1(x)[0][0], cell(x[0])[0])
    dump(f"{RNN}/lstm.json",
         "PyTorch 1.13 torch.nn.LSTMCell (one step) and torch.nn.LSTM (5 steps), input 3, hidden 4, batch 2, "
         "float64, random weights stored as inputs under their PyTorch state_dict names (weight_ih, weight_hh, "
         "bias_ih, bias_hh; with the suffix _l0 for nn.LSTM). h0 and c0 are inputs (zeros in the 'zero' cases, "
         "equivalent to passing none). Outputs: output (h at every step), h_n, c_n. Grads of x, h0, c0 and every "
         "weight for loss = sum(output * R) (c_n and h_n are not in the loss). Gate order: see params.gate_order.",
         cases)


# ---- rnn: GRU --------------------------------------------------------------------------------------------------

def gru_fixture():
    torch.manual_seed(7)
    D, H, N, TT = 3, 4, 2, 5
    cell = torch.nn.GRUCell(D, H).to(F64)
    gru = torch.nn.GRU(D, H).to(F64)
    cw, sw = state_dict_inputs(cell), state_dict_inputs(gru)
    cases = []

    def seq(x, h0, **w):
        out, hn = gru(x, h0)
        h, ref = h0[0], []
        for t in range(x.shape[0]):
            h = ref_gru_step(x[t], h, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
            ref.append(h)
        close(out, torch.stack(ref))
        return {"output": out, "h_n": hn}

    seq_params = {"module": "torch.nn.GRU(3, 4), num_layers 1, batch_first False", "input_size": D, "hidden_size": H,
                  "batch": N, "gate_order": GRU_NOTE,
                  "layout": "x [T, N, D] (time first); h0, h_n [1, N, H]; output [T, N, H] = h after every step; "
                            "h_n = output[T-1]"}

    for state in ("zero", "nonzero"):
        h0 = randn(N, H) if state == "nonzero" else torch.zeros(N, H, dtype=F64)

        def step(x, h0, **w):
            h1 = cell(x, h0)
            close(h1, ref_gru_step(x, h0, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"]))
            return {"output": h1, "h_n": h1}

        cases.append(case(f"GRUCell one step, {state} h0", step, {"x": randn(N, D), "h0": h0, **cw},
                          {"module": "torch.nn.GRUCell(3, 4)", "input_size": D, "hidden_size": H, "batch": N,
                           "gate_order": GRU_NOTE, "layout": "x [N, D]; h0, output (= h'), h_n (= h') [N, H]"}, module=cell))
    for state in ("zero", "nonzero"):
        h0 = randn(1, N, H) if state == "nonzero" else torch.zeros(1, N, H, dtype=F64)
        cases.append(case(f"GRU {TT} steps, {state} h0", seq, {"x": randn(TT, N, D), "h0": h0, **sw},
                          {**seq_params, "steps": TT}, module=gru))
    # Cases where PyTorch's GRU equals Torch7's: b_hn = 0 with a diagonal W_hn (every step), or b_hn = 0 from a
    # zero state (the first step only).
    w = {k: v.clone() for k, v in sw.items()}
    w["bias_hh_l0"][2 * H:] = 0
    w["weight_hh_l0"][2 * H:] = torch.diag(randn(H))
    cases.append(case(f"GRU {TT} steps, nonzero h0, b_hn = 0 and diagonal W_hn (equals Torch7's GRU at every step)",
                      seq, {"x": randn(TT, N, D), "h0": randn(1, N, H), **w}, {**seq_params, "steps": TT}, module=gru))
    w = {k: v.clone() for k, v in sw.items()}
    w["bias_hh_l0"][2 * H:] = 0
    cases.append(case("GRU 3 steps, zero h0, b_hn = 0 (equals Torch7's GRU at the first step only)", seq,
                      {"x": randn(3, N, D), "h0": torch.zeros(1, N, H, dtype=F64), **w}, {**seq_params, "steps": 3}, module=gru))
    dump(f"{RNN}/gru.json",
         "PyTorch 1.13 torch.nn.GRUCell (one step) and torch.nn.GRU (5 steps), input 3, hidden 4, batch 2, float64, "
         "random weights stored as inputs under their PyTorch state_dict names (weight_ih, weight_hh, bias_ih, "
         "bias_hh; with the suffix _l0 for nn.GRU). h0 is an input (zeros in the 'zero' cases). Outputs: output (h at "
         "every step), h_n. Grads of x, h0 and every weight for loss = sum(output * R). PyTorch's n gate is NOT "
         "Torch7's: see params.gate_order; the last two cases are ones where they coincide.", cases)


# ---- rnn: packed bidirectional ---------------------------------------------------------------------------------

def packed_fixture(kind, seed):
    torch.manual_seed(seed)
    D, H, L, TT = 3, 4, 2, 5
    lengths = torch.tensor([5, 3, 2], dtype=torch.int64)
    N = len(lengths)
    Mod = torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU
    m = Mod(D, H, num_layers=L, bidirectional=True).to(F64)
    w = state_dict_inputs(m)
    x = randn(TT, N, D)
    for b, n in enumerate(lengths.tolist()):
        x[n:, b] = 0  # padding

    def run(x, lengths, **w):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=True)
        out, state = m(packed)
        out, out_lengths = pad_packed_sequence(out, total_length=TT)
        assert out_lengths.tolist() == lengths.tolist()
        # Each sequence alone, unpadded, gives the same numbers.
        for b, n in enumerate(lengths.tolist()):
            o, s = m(x[:n, b:b + 1])
            close(out[:n, b:b + 1], o)
            assert (out[n:, b] == 0).all()
            if kind == "LSTM":
                close(state[0][:, b:b + 1], s[0])
                close(state[1][:, b:b + 1], s[1])
            else:
                close(state[:, b:b + 1], s)
        if kind == "LSTM":
            return {"output": out, "h_n": state[0], "c_n": state[1]}
        return {"output": out, "h_n": state}

    note = LSTM_NOTE if kind == "LSTM" else GRU_NOTE
    state_names = "h_n and c_n" if kind == "LSTM" else "h_n"
    c = case(f"bidirectional 2-layer {kind}, lengths [5, 3, 2], T = 5, zero initial state", run,
             {"x": x, "lengths": lengths, **w},
             {"module": f"torch.nn.{kind}(3, 4, num_layers=2, bidirectional=True), batch_first False, dropout 0",
              "input_size": D, "hidden_size": H, "num_layers": L, "bidirectional": True, "batch": N, "steps": TT,
              "packing": "pack_padded_sequence(x, lengths, enforce_sorted=True) -> module (zero initial state) -> "
                         "pad_packed_sequence(total_length=5)",
              "gate_order": note,
              "layout": (
                  "x [T, N, D] time first, entries past a sequence's length are 0 (padding); lengths int32 [N], "
                  "sorted decreasing. output [T, N, 2H]: [..., 0:H] the forward direction, [..., H:2H] the backward "
                  "direction of the last layer; output[t, b] = 0 for t >= lengths[b]. The backward direction of "
                  f"sequence b starts at its own last step t = lengths[b]-1, never at padding. {state_names} "
                  "[num_layers*2, N, H], index = 2*layer + direction (0 forward, 1 backward): the forward state is "
                  "taken at t = lengths[b]-1, the backward one at t = 0. Weights: <name>_l{layer} for the forward "
                  "direction, <name>_l{layer}_reverse for the backward one; layer 1 takes the layer-0 output "
                  "[fwd, bwd] concatenated, so its weight_ih is [G*H, 2H] (G = 4 for LSTM, 3 for GRU).")},
             module=m)
    dump(f"{RNN}/bi{kind.lower()}_packed.json",
         f"PyTorch 1.13 torch.nn.{kind}, 2 layers, bidirectional, input 3, hidden 4, float64, over a padded batch of "
         "3 sequences of lengths [5, 3, 2] (T = 5) through pack_padded_sequence / pad_packed_sequence. Every "
         "weight is stored as an input under its PyTorch state_dict key. Outputs: output (padded positions 0) and "
         f"the final {state_names}. Grads of x (0 at padded positions) and every weight for loss = sum(output * R) "
         "(R at padded positions multiplies a constant 0). See params.layout and params.gate_order.", [c])


# ---- main ------------------------------------------------------------------------------------------------------

if __name__ == "__main__":
    legacy_golden()
    matmul_fixture()
    softmax_fixture()
    losses_fixture()
    reductions_fixture()
    elementwise_fixture()
    lstm_fixture()
    gru_fixture()
    packed_fixture("LSTM", 8)
    packed_fixture("GRU", 9)
    for p in WRITTEN:
        print(f"{os.path.getsize(p):>7} bytes  {os.path.relpath(p, ROOT)}")
