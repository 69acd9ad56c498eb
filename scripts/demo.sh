#!/usr/bin/env bash
# Install, build and run the main example: the Torch7 rnn tutorial's cosine prediction (plots in out/cos).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-webgpu.sh
npx -y pnpm@12.4.2 install --frozen-lockfile
npx -y pnpm@12.4.2 run build
node packages/examples/dist/cos.js "$@"
