#!/usr/bin/env bash
# Linux installables from the one-folder bundle (dist/desktop-uploader, built by the spec):
#   dist/desktop-uploader-VERSION-linux-ARCH.tar.gz   bundle + install.sh (per user or system-wide)
#   dist/desktop-uploader_VERSION_ARCH.deb            /opt/desktop-uploader, /usr/bin launcher,
#                                                     .desktop file and hicolor icons
# Usage: packaging/linux/build.sh [--fast] [--out DIR]
#   --fast: light compression (tests); --out: where the two files go (default dist/)
# An AppImage needs appimagetool, which is not packaged for Debian/PyPI; see docs/packaging.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle="$root/dist/desktop-uploader"
fast=0
out="$root/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1; shift ;;
    --out) out=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

[ -x "$bundle/desktop-uploader" ] || { echo "no bundle at $bundle: run make bundle" >&2; exit 1; }
version=$(cat "$bundle/VERSION")
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
# a staging folder of our own: runs may overlap
mkdir -p "$root/build"
stage=$(mktemp -d "$root/build/linux-packages.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Real copies, taken under the lock that bundle builds hold (tests/test_packaging.py, make
# bundle): a rebuild running meanwhile must neither change nor half-replace what we package.
exec 9>"$root/build/.bundle.lock"
copy_bundle() {
  flock 9
  cp -a "$bundle" "$1"
  flock -u 9
}

# -- .tar.gz + install.sh ----------------------------------------------------------------------
name="desktop-uploader-$version-linux-$(uname -m)"
tdir="$stage/$name"
mkdir -p "$tdir/share/icons"
copy_bundle "$tdir/desktop-uploader"
install -m 0755 "$here/install.sh" "$tdir/install.sh"
install -m 0644 "$root/resources/desktop-uploader.desktop" "$tdir/share/desktop-uploader.desktop"
cp "$root"/resources/icons/desktop-uploader-*.png "$tdir/share/icons/"
tarball="$out/$name.tar.gz"
level=9; [ $fast = 1 ] && level=1
tar -C "$stage" -cf - "$name" | gzip -"$level" > "$stage/$name.tar.gz"
mv "$stage/$name.tar.gz" "$tarball"
echo "built $tarball ($(du -h "$tarball" | cut -f1))"

# -- .deb ----------------------------------------------------------------------------------------
droot="$stage/deb"
mkdir -p "$droot/DEBIAN" "$droot/opt" "$droot/usr/bin" "$droot/usr/share/applications"
copy_bundle "$droot/opt/desktop-uploader"
install -m 0755 "$here/launcher.sh" "$droot/usr/bin/desktop-uploader"
install -m 0644 "$root/resources/desktop-uploader.desktop" "$droot/usr/share/applications/"
for png in "$root"/resources/icons/desktop-uploader-*.png; do
  size=${png##*-}; size=${size%.png}
  mkdir -p "$droot/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 0644 "$png" "$droot/usr/share/icons/hicolor/${size}x${size}/apps/desktop-uploader.png"
done
mkdir -p "$droot/usr/share/icons/hicolor/scalable/apps"
install -m 0644 "$root/resources/icons/app.svg" \
  "$droot/usr/share/icons/hicolor/scalable/apps/desktop-uploader.svg"
installed_kb=$(du -sk --exclude=DEBIAN "$droot" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$installed_kb/" \
  "$here/control.in" > "$droot/DEBIAN/control"
install -m 0755 "$here/postinst" "$droot/DEBIAN/postinst"
install -m 0755 "$here/postinst" "$droot/DEBIAN/postrm"
deb="$out/desktop-uploader_${version}_${arch}.deb"
if [ $fast = 1 ]; then comp=(-Znone); else comp=(-Zxz -z6); fi
dpkg-deb --root-owner-group "${comp[@]}" --build "$droot" "$stage/package.deb" >/dev/null
mv "$stage/package.deb" "$deb"
echo "built $deb ($(du -h "$deb" | cut -f1))"
