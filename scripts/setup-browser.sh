#!/usr/bin/env bash
# Chromium for the browser tests (packages/rnn/test/browserChromium.test.ts drives it with puppeteer-core): Debian's
# `chromium`, whose SwiftShader gives WebGPU a software adapter without a GPU. Idempotent and quiet when it is
# there; never fails the caller (without root, or off Debian, it says what to install; the browser tests then
# skip, or fail when WEBRNN_REQUIRE_WEBGPU=1).
set -u

have_chromium() { [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; }

if have_chromium; then exit 0; fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: for the browser tests install Debian's chromium (as root), or set CHROMIUM_PATH. Continuing."
  exit 0
fi

echo "setup-browser: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || echo "setup-browser: apt-get update failed"
# fonts-dejavu-core: the demo page's screenshot test draws text.
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null ||
  echo "setup-browser: could not install chromium"
exit 0
