"""PyTorch (Debian's python3-torch, CPU) running the benchmark's workloads: the reference line.

Prints one JSON list of measurements, like the JavaScript peers. Sizes come from the command line so that they
match bench/src/workloads.ts exactly.
"""
import json
import sys
import time

import torch


def time_it(fn, warmup=1, min_runs=3, min_seconds=2.0):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def seed_cos(s):
    H, rho, batch = s["hidden"], s["rho"], s["batch"]
    lin1 = torch.nn.Linear(s["input"], H)
    cell = torch.nn.LSTMCell(H, H)
    lin2 = torch.nn.Linear(H, 1)
    params = list(lin1.parameters()) + list(cell.parameters()) + list(lin2.parameters())
    opt = torch.optim.SGD(params, lr=s["lr"])
    xs = torch.cos(torch.arange(rho * batch, dtype=torch.float32) * 0.1).reshape(rho, batch, 1)
    y = torch.cos(torch.arange(batch, dtype=torch.float32)).reshape(batch, 1)

    def step():
        opt.zero_grad()
        h = torch.zeros(batch, H)
        c = torch.zeros(batch, H)
        for t in range(rho):
            h, c = cell(lin1(xs[t]), (h, c))
        loss = torch.nn.functional.mse_loss(torch.clamp(lin2(h), -1, 1), y)
        loss.backward()
        opt.step()
        loss.item()

    return 1 / time_it(step, min_seconds=4)


def char_lstm(s, train):
    V, E, H, L, T, B = s["vocab"], s["embed"], s["hidden"], s["layers"], s["seq"], s["batch"]
    emb = torch.nn.Embedding(V, E)
    lstm = torch.nn.LSTM(E, H, L)
    out = torch.nn.Linear(H, V)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(out.parameters())
    opt = torch.optim.SGD(params, lr=s["lr"])
    g = torch.Generator().manual_seed(2)
    data = torch.randint(0, V, (T + 1, B), generator=g)
    x, y = data[:-1], data[1:]

    def step():
        if train:
            opt.zero_grad()
            logits = out(lstm(emb(x))[0])
            loss = torch.nn.functional.cross_entropy(logits.reshape(T * B, V), y.reshape(T * B))
            loss.backward()
            opt.step()
            loss.item()
        else:
            with torch.no_grad():
                out(lstm(emb(x))[0]).sum().item()

    return T * B / time_it(step, min_seconds=4)


def char_gen(s, g):
    """Generation: batch 1, one token at a time, the next token the argmax of the logits."""
    V, E, H, L = s["vocab"], s["embed"], s["hidden"], s["layers"]
    emb = torch.nn.Embedding(V, E)
    lstm = torch.nn.LSTM(E, H, L)
    out = torch.nn.Linear(H, V)

    def step():
        with torch.no_grad():
            state = None
            token = torch.zeros(1, 1, dtype=torch.long)
            for _ in range(g["tokens"]):
                y, state = lstm(emb(token), state)
                token = out(y[0]).argmax(-1, keepdim=True)
                token.item()

    return g["tokens"] / time_it(step, min_seconds=3)


def small_latency(s):
    cell = torch.nn.LSTMCell(s["input"], s["hidden"])
    xs = torch.randn(s["steps"], 1, s["input"])

    def step():
        cell.zero_grad()
        h = torch.zeros(1, s["hidden"])
        c = torch.zeros(1, s["hidden"])
        for t in range(s["steps"]):
            h, c = cell(xs[t], (h, c))
        h.sum().backward()

    return 1000 * time_it(step, min_seconds=3)


def matmul(n):
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    return 2 * n**3 / time_it(lambda: a @ b, warmup=2, min_seconds=2) / 1e9


def main():
    spec = json.loads(sys.argv[1])
    torch.manual_seed(0)
    results = []
    for w in spec["workloads"]:
        if w == "seed-cos":
            results.append(dict(workload=w, value=seed_cos(spec["seedCos"]), unit="it/s", higherIsBetter=True))
        elif w == "char-lstm-train":
            results.append(dict(workload=w, value=char_lstm(spec["charLstm"], True), unit="tokens/s", higherIsBetter=True))
        elif w == "char-lstm-infer":
            results.append(dict(workload=w, value=char_lstm(spec["charLstm"], False), unit="tokens/s", higherIsBetter=True))
        elif w == "char-lstm-gen":
            results.append(dict(workload=w, value=char_gen(spec["charLstm"], spec["charGen"]), unit="tokens/s", higherIsBetter=True))
        elif w == "small-latency":
            results.append(dict(workload=w, value=small_latency(spec["smallLatency"]), unit="ms/seq", higherIsBetter=False))
        elif w.startswith("matmul-"):
            results.append(dict(workload=w, value=matmul(int(w[7:])), unit="GFLOP/s", higherIsBetter=True))
    for r in results:
        r["peer"] = "pytorch-cpu"
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
