#!/usr/bin/env bash
# Debian packages the tests (and the demo) need. Installs them when run as root and missing;
# otherwise prints the command to run. Usage: scripts/system-deps.sh [test|demo]
set -euo pipefail
what=${1:-test}

# python3-venv: a fresh Debian has python3 without venv/ensurepip.
demo_pkgs=(python3-venv)
test_pkgs=(python3-venv libimage-exiftool-perl clamav clamav-daemon)
# Real-window GUI screenshots under Xvfb (scripts/screenshots.py): Qt's xcb platform plugin
# needs these (its error message blames only xcb-cursor0), plus a font to draw text with.
test_pkgs+=(xvfb libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1
  libfontconfig1 libdbus-1-3 fonts-dejavu-core)
# The frozen app (tests/test_packaging.py): PyInstaller reads libraries with objdump; the .deb
# is built with dpkg-deb (in dpkg, always there on Debian).
test_pkgs+=(binutils)
# Animation timing checks read the output with libwebp's own tool, webpmux (tests/test_animation.py).
test_pkgs+=(webp)

pkgs=("${demo_pkgs[@]}")
[ "$what" = test ] && pkgs=("${test_pkgs[@]}")

command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian/Ubuntu: nothing to do here
missing=()
for p in "${pkgs[@]}"; do
  # python3-venv matters only for the system python; a pyenv/python.org python has venv built in
  if [ "$p" = python3-venv ] && python3 -c 'import ensurepip, venv' 2>/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  [ "$what" = demo ] && exit 1 || exit 0
fi
