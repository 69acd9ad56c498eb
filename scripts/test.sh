#!/usr/bin/env bash
# Install everything, build every package, install the packed packages into a project outside the repository and run a
# program there (scripts/outside-project.sh), then check formatting, types and import cycles, run every test, and
# mutation-test the sources the last commit changed (WEBRNN_MUTATION=0 leaves that out).
# Works on a fresh Debian machine with Node 20 and npm; as root it also installs the Mesa drivers WebGPU needs and
# Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-webgpu.sh
bash scripts/setup-browser.sh
npx -y pnpm@12.4.2 install --frozen-lockfile
npx -y pnpm@12.4.2 run build
bash scripts/outside-project.sh
npx -y pnpm@12.4.2 run check
# Mutation testing of the sources the last change touched, within a budget (README "Mutation testing"); it prints
# why when it skips, the survivors when it runs, and fails below stryker.config.mjs's thresholds.break.
if [ "${WEBRNN_MUTATION:-1}" != 0 ]; then node scripts/mutate-changed.mjs; fi
