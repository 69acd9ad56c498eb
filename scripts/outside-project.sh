#!/usr/bin/env bash
# Use the packages as an outside project would: pack kernels, core and rnn (with npm pack and with pnpm pack),
# install each set into a new project in a temporary folder, one with npm and one with pnpm, type-check a strict
# program against them (skipLibCheck false: the published .d.ts must stand on their own) and run the tutorial's
# first net from it on the CPU and, where there is an adapter, on WebGPU; and bundle a page's script from them with
# esbuild for the browser (no warning, no Node import). Needs `pnpm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
pnpm=(npx -y pnpm@12.4.2)
work=$(mktemp -d "${TMPDIR:-/tmp}/webrnn-outside-XXXXXX")
trap 'rm -rf "$work"' EXIT
quiet=(--no-audit --no-fund --loglevel=error)
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

echo "outside-project: packing into $work"
mkdir -p "$work/npm-tarballs" "$work/pnpm-tarballs"
for p in kernels core rnn; do
  (cd "packages/$p" && npm pack "${quiet[@]}" --pack-destination "$work/npm-tarballs" >/dev/null)
  (cd "packages/$p" && "${pnpm[@]}" pack --pack-destination "$work/pnpm-tarballs" >/dev/null)
done

# Each tarball: its README and LICENSE, and real version ranges (no workspace: protocol).
for t in "$work"/npm-tarballs/*.tgz "$work"/pnpm-tarballs/*.tgz; do
  files=$(tar -tzf "$t")
  for f in package/README.md package/LICENSE package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$f" <<<"$files" || { echo "outside-project: $t lacks $f" >&2; exit 1; }
  done
  if tar -xzOf "$t" package/package.json | grep -q '"workspace:'; then
    echo "outside-project: $t keeps a workspace: dependency" >&2
    exit 1
  fi
done

# A new project: package.json, the strict tsconfig and the program.
project() {
  mkdir -p "$1"
  cp scripts/outside-project/main.ts scripts/outside-project/tsconfig.json scripts/outside-project/browser.js "$1/"
  printf '{ "name": "outside", "version": "1.0.0", "private": true, "type": "module" }\n' >"$1/package.json"
}

# Type-check and run the program in project $1, labelled $2; bundle browser.js for the browser.
check() {
  (cd "$1" && ./node_modules/.bin/tsc -p . && node main.js cpu && node main.js webgpu) 2>&1 | sed "s/^/[$2] /"
  test "${PIPESTATUS[0]}" -eq 0
  local said
  said=$(cd "$1" && ./node_modules/.bin/esbuild browser.js --bundle --platform=browser --format=esm \
    --outfile=browser.bundle.js --log-level=warning 2>&1) || { echo "[$2] esbuild failed: $said" >&2; return 1; }
  [ -z "$said" ] || { echo "[$2] esbuild warned: $said" >&2; return 1; }
  if grep -Eq "from ['\"]node:|import\(['\"]node:|require\(" "$1/browser.bundle.js"; then
    echo "[$2] the browser bundle imports Node modules" >&2
    return 1
  fi
  echo "[$2] browser bundle: $(wc -c <"$1/browser.bundle.js") bytes, no warning, no Node import"
}

tools=(typescript@5.9.3 @types/node@20.19.25 esbuild@0.28.2)

echo "outside-project: npm install"
project "$work/with-npm"
(cd "$work/with-npm" && npm install "${quiet[@]}" "$work"/npm-tarballs/*.tgz "${tools[@]}")
check "$work/with-npm" npm

echo "outside-project: pnpm install"
project "$work/with-pnpm"
# From tarballs (not the registry) pnpm needs overrides for the packages' own dependencies on each other;
# webgpu's install script only matters on macOS.
cat >"$work/with-pnpm/pnpm-workspace.yaml" <<YAML
allowBuilds:
  esbuild: false
  webgpu: false
overrides:
  '@webrnn/kernels': file:$work/pnpm-tarballs/webrnn-kernels-0.1.0.tgz
  '@webrnn/core': file:$work/pnpm-tarballs/webrnn-core-0.1.0.tgz
YAML
(cd "$work/with-pnpm" && "${pnpm[@]}" add --reporter=silent "$work"/pnpm-tarballs/*.tgz "${tools[@]}")
check "$work/with-pnpm" pnpm
echo "outside-project: ok"
