#!/usr/bin/env bash
# Install everything, build every package, install the packed packages into a project outside the repository and run a
# program there (scripts/outside-project.sh), then check formatting, types and import cycles and run every test.
# Works on a fresh Debian machine with Node 20 and npm; as root it also installs the Mesa drivers WebGPU needs and
# Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-webgpu.sh
bash scripts/setup-browser.sh
npx -y pnpm@12.4.2 install --frozen-lockfile
npx -y pnpm@12.4.2 run build
bash scripts/outside-project.sh
# Last, so that the test runner's summary closes the output.
npx -y pnpm@12.4.2 run check
