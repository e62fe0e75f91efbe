#!/usr/bin/env bash
# Debian packages the tests (and the demo) need. Installs them when run as root and missing;
# otherwise prints the command to run. Usage: scripts/system-deps.sh [test|demo|clamav]
#   clamav: ClamAV for the demo's malware scan, where it can be had; never fails (the app says
#   in plain words when files are not scanned, and how to fix it)
set -euo pipefail
what=${1:-test}

if [ "$what" = clamav ]; then
  command -v dpkg-query >/dev/null 2>&1 || exit 0
  if ! dpkg-query -W -f='${Status}' clamav-daemon 2>/dev/null | grep -q "install ok installed"; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing ClamAV (clamav-daemon, clamav-freshclam) for the malware scan ..."
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        clamav-daemon clamav-freshclam >/dev/null || echo "ClamAV could not be installed."
    else
      echo "For the malware scan: sudo apt-get install clamav-daemon clamav-freshclam" >&2
    fi
  fi
  if ! ls /var/lib/clamav/*.c[lv]d >/dev/null 2>&1 && command -v freshclam >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "Downloading ClamAV signatures (freshclam; up to 3 minutes) ..."
      timeout 180 freshclam --quiet --stdout >/dev/null 2>&1 \
        || echo "freshclam could not download signatures: uploads will say they were not scanned."
    else
      echo "ClamAV has no signatures yet: run sudo freshclam" >&2
    fi
  fi
  exit 0
fi

# python3-venv: a fresh Debian has python3 without venv/ensurepip.
demo_pkgs=(python3-venv)
test_pkgs=(python3-venv libimage-exiftool-perl clamav clamav-daemon)
# jpegtran: the `original` preset turns JPEGs upright without re-encoding (pipeline/jpeg_lossless.py)
test_pkgs+=(libjpeg-turbo-progs)
# Real-window GUI screenshots under Xvfb (scripts/screenshots.py): Qt's xcb platform plugin
# needs these (its error message blames only xcb-cursor0), plus a font to draw text with.
test_pkgs+=(xvfb libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1
  libfontconfig1 libdbus-1-3 fonts-dejavu-core)
# The local upload server's clipboard upload (tests/test_integrations_server.py): a real X11
# clipboard owner under Xvfb; the app reads it with xclip (or wl-paste on Wayland).
test_pkgs+=(xclip)
# The frozen app (tests/test_packaging.py): PyInstaller reads libraries with objdump; the .deb
# is built with dpkg-deb (in dpkg, always there on Debian).
test_pkgs+=(binutils)
# The .desktop file is checked with freedesktop's own validator (tests/test_file_managers.py).
test_pkgs+=(desktop-file-utils)
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
