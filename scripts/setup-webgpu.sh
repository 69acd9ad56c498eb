#!/usr/bin/env bash
# Give WebGPU (Dawn, through the `webgpu` npm package) a software adapter on machines without a GPU:
# Mesa >= 24 lavapipe (Vulkan) from Debian bookworm-backports, and Mesa's EGL/GLES for the OpenGL ES fallback.
# Idempotent and quiet when everything is there; never fails the caller (without root, or off Debian, it says
# what to install and the programs fall back to the CPU).
set -u

# The Debian mirror apt already uses for bookworm (one-line or deb822 sources under ROOT), so that backports come
# from the same place (a local mirror behind a proxy, say); deb.debian.org when none names one.
debian_mirror() {
  local root="${1:-}" uri
  uri=$(cat "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -E 's/\[[^]]*\]//' | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  if [ -z "$uri" ]; then
    uri=$(cat "$root"/etc/apt/sources.list.d/*.sources 2>/dev/null |
      awk 'BEGIN { RS = "" } /Suites:[^\n]*bookworm([ \t\n]|$)/ {
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) if (lines[i] ~ /^URIs:/) { split(lines[i], f, /[ \t]+/); print f[2]; exit }
      }')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# `setup-webgpu.sh --backports-line [ROOT]` prints the sources line it would add, and does nothing else (tests).
if [ "${1:-}" = --backports-line ]; then
  echo "deb $(debian_mirror "${2:-}") bookworm-backports main"
  exit 0
fi

have_lavapipe() {
  local icd
  for icd in /usr/share/vulkan/icd.d/lvp_icd*.json; do
    [ -e "$icd" ] || continue
    # Dawn refuses bookworm's Mesa 22 lavapipe; it needs a Vulkan 1.3 driver from Mesa 24 or later.
    local v
    v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed 's/^[0-9]*://; s/\..*//')
    [ -n "$v" ] && [ "$v" -ge 24 ] && return 0
  done
  return 1
}
have_gles() { ls /usr/lib/*/libGLESv2.so.2 >/dev/null 2>&1 && ls /usr/lib/*/libEGL_mesa.so.0 >/dev/null 2>&1; }

if have_lavapipe && have_gles; then exit 0; fi

what="mesa-vulkan-drivers (Mesa >= 24, e.g. from bookworm-backports) libegl1 libegl-mesa0 libgles2"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-webgpu: for a WebGPU software adapter install: $what (as root). Continuing; WebGPU may be unavailable."
  exit 0
fi

echo "setup-webgpu: installing $what"
export DEBIAN_FRONTEND=noninteractive
if ! have_lavapipe; then
  if grep -qs bookworm /etc/os-release && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb $(debian_mirror) bookworm-backports main" >/etc/apt/sources.list.d/bookworm-backports.list
  fi
  apt-get update -q >/dev/null || echo "setup-webgpu: apt-get update failed"
  if grep -qs bookworm /etc/os-release; then
    apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers >/dev/null || echo "setup-webgpu: could not install mesa-vulkan-drivers"
  else
    apt-get install -y -q mesa-vulkan-drivers >/dev/null || echo "setup-webgpu: could not install mesa-vulkan-drivers"
  fi
fi
if ! have_gles; then
  apt-get install -y -q libegl1 libegl-mesa0 libgles2 >/dev/null || echo "setup-webgpu: could not install EGL/GLES"
fi
exit 0
