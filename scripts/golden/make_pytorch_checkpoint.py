"""A checkpoint written by PyTorch itself, for the interoperability test (packages/rnn/test/ioPyTorchFixture.test.ts).

A model of nn.Embedding, nn.LSTM (with proj_size) and nn.Linear, in float64 and seeded, saved as PyTorch's
safetensors writer lays a state_dict out (header JSON padded with spaces to 8 bytes, little-endian data in name
order; written here byte for byte, since Debian ships no `safetensors` module), beside a JSON of the input indices
and of the outputs PyTorch computes from them. Run: /usr/bin/python3 scripts/golden/make_pytorch_checkpoint.py
"""
import json
import pathlib
import struct

import torch

torch.manual_seed(20261204)
V, D, H, R, O, T, N = 7, 4, 5, 3, 2, 4, 3


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, D)
        self.lstm = torch.nn.LSTM(D, H, proj_size=R)
        self.fc = torch.nn.Linear(R, O)

    def forward(self, idx):
        y, _ = self.lstm(self.embed(idx))
        return self.fc(y)


net = Net().double()
idx = torch.randint(0, V, (T, N))
with torch.no_grad():
    out = net(idx)

state = net.state_dict()
names = sorted(state)
header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
for name in names:
    t = state[name].contiguous()
    raw = t.numpy().astype("<f8").tobytes()
    header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
    offset += len(raw)
    blobs.append(raw)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
here = pathlib.Path(__file__).resolve().parents[2] / "packages/rnn/test/fixtures"
(here / "pytorch_lstm.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
(here / "pytorch_lstm.json").write_text(
    json.dumps(
        {
            "description": "torch 1.13 Embedding(7, 4) -> LSTM(4, 5, proj_size=3) -> Linear(3, 2), float64",
            "sizes": {"V": V, "D": D, "H": H, "R": R, "O": O, "T": T, "N": N},
            "input": idx.tolist(),
            "output": out.reshape(-1).tolist(),
        }
    )
)
print("wrote", here / "pytorch_lstm.safetensors")
