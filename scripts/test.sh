#!/usr/bin/env bash
# Install everything, build every package, then check formatting, types and run every test; last, install the
# packed packages into a project outside the repository and run a program there (scripts/outside-project.sh).
# Works on a fresh Debian machine with Node 20 and npm; as root it also installs the Mesa drivers WebGPU needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-webgpu.sh
npx -y pnpm@12.4.2 install --frozen-lockfile
npx -y pnpm@12.4.2 run build
npx -y pnpm@12.4.2 run check
bash scripts/outside-project.sh
