"""PyTorch's answers at special values (NaN, +-Inf, +-0), written to packages/core/test/fixtures/specialValues.json.

Run:  /usr/bin/python3 scripts/golden/make_special_values.py   (Debian's python3-torch 1.13, CPU)

Every op is evaluated in float64 on a fixed grid, so a rerun writes a byte-identical file. JSON has no NaN or
infinities, so every number is written as a string: "nan", "inf", "-inf", "-0.0" or Python's repr of the float.
Format: {"description", "grid": [...], "unary": {op: [f(g) for g in grid]},
         "binary": {op: [[f(a, b) for b in grid] for a in grid]},
         "rows": [[...], ...], "reduce": {op: [f(row) for row in rows]}, "softmax"/"logSoftmax": [[...], ...]}.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "packages/core/test/fixtures/specialValues.json")
inf = math.inf
nan = math.nan
GRID = [nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 2.5]
ROWS = [
    [1.0, nan, 3.0, inf],
    [1.0, 3.0, inf, -2.0],
    [-inf, -inf, -inf, -inf],
    [1.0, -inf, 2.0, -inf],
    [inf, inf, 1.0, 0.0],
    [-inf, 2.0, inf, 1.0],
    [0.0, -0.0, 0.5, nan],
    [nan, 1.0, nan, -1.0],
    [inf, -inf, 1.0, 2.0],
    [-1.0, -3.0, -2.0, -0.5],
]


def s(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def listed(t):
    return [s(v) for v in t.reshape(-1).tolist()]


def main():
    g = torch.tensor(GRID, dtype=torch.float64)
    unary = {
        "neg": torch.neg, "abs": torch.abs, "sign": torch.sign, "exp": torch.exp, "log": torch.log,
        "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "square": torch.square, "reciprocal": torch.reciprocal,
        "hardtanh": F.hardtanh, "clamp(-1, 2)": lambda x: torch.clamp(x, -1.0, 2.0),
    }
    a = g.reshape(-1, 1).expand(len(GRID), len(GRID))
    b = g.reshape(1, -1).expand(len(GRID), len(GRID))
    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
        "maximum": torch.maximum, "minimum": torch.minimum,
        "gt": lambda x, y: torch.gt(x, y).double(), "ge": lambda x, y: torch.ge(x, y).double(),
        "lt": lambda x, y: torch.lt(x, y).double(), "le": lambda x, y: torch.le(x, y).double(),
        "eq": lambda x, y: torch.eq(x, y).double(),
    }
    rows = torch.tensor(ROWS, dtype=torch.float64)
    reduce = {
        "sum": lambda r: r.sum(1), "mean": lambda r: r.mean(1), "max": lambda r: r.amax(1),
        "min": lambda r: r.amin(1), "argmax": lambda r: r.argmax(1).double(), "argmin": lambda r: r.argmin(1).double(),
    }
    data = {
        "description": "PyTorch 1.13 (CPU, float64) at NaN, +-Inf, +-0 and a few ordinary values: unary ops over "
                       "grid, binary ops over grid x grid (rows a, columns b), reductions and softmax over the last "
                       "axis of rows. Numbers are strings: nan, inf, -inf, or the repr of a float "
                       "(scripts/golden/make_special_values.py).",
        "grid": [s(v) for v in GRID],
        "unary": {k: listed(f(g)) for k, f in unary.items()},
        "binary": {k: [listed(r) for r in f(a, b)] for k, f in binary.items()},
        "rows": [[s(v) for v in r] for r in ROWS],
        "reduce": {k: listed(f(rows)) for k, f in reduce.items()},
        "softmax": [listed(r) for r in torch.softmax(rows, 1)],
        "logSoftmax": [listed(r) for r in torch.log_softmax(rows, 1)],
    }
    text = json.dumps(data, indent=None, separators=(",", ":")) + "\n"
    assert len(text) < 100_000
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
