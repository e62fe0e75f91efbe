#!/usr/bin/env bash
# Linux installables from the one-folder bundle (dist/desktop-uploader, built by the spec) and
# the embedded store's folder beside it (dist/desktop-uploader-local-store: weed):
#   dist/desktop-uploader-VERSION-linux-ARCH.tar.gz   both + install.sh (per user or system-wide)
#   dist/desktop-uploader_VERSION_ARCH.deb            /opt/desktop-uploader, /usr/bin launcher,
#                                                     .desktop file, icons, file-manager menus;
#                                                     Recommends the store's package:
#   dist/desktop-uploader-local-store_VERSION_ARCH.deb  /opt/desktop-uploader-local-store/weed
# It prints the sizes and, unless --fast, fails when the bundle is over its budget (300 MB) or
# the app's .deb over its own (100 MB; docs/packaging.md has where the bytes go).
# Usage: packaging/linux/build.sh [--fast] [--out DIR]
#   --fast: light compression (tests); --out: where the two files go (default dist/)
# An AppImage needs appimagetool, which is not packaged for Debian/PyPI; see docs/packaging.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle="$root/dist/desktop-uploader"
store="$root/dist/desktop-uploader-local-store"
fm="$here/file-managers"
BUNDLE_BUDGET_MB=300
DEB_BUDGET_MB=100
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
[ -x "$store/weed" ] || { echo "no store at $store/weed: run make bundle" >&2; exit 1; }
version=$(cat "$bundle/VERSION")
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
# a staging folder of our own: runs may overlap
mkdir -p "$root/build"
stage=$(mktemp -d "$root/build/linux-packages.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Real copies, taken under the lock that bundle builds hold (tests/test_packaging.py, make
# bundle): a rebuild running meanwhile must neither change nor half-replace what we package.
exec 9>"$root/build/.bundle.lock"
copy_bundle() {  # copy_bundle SOURCE DEST
  flock 9
  cp -a "$1" "$2"
  flock -u 9
}
mb() { du -sb "$1" | awk '{printf "%.1f", $1 / 1e6}'; }

# -- .tar.gz + install.sh ----------------------------------------------------------------------
name="desktop-uploader-$version-linux-$(uname -m)"
tdir="$stage/$name"
mkdir -p "$tdir/share/icons" "$tdir/share/file-managers"
copy_bundle "$bundle" "$tdir/desktop-uploader"
copy_bundle "$store" "$tdir/desktop-uploader-local-store"
install -m 0755 "$here/install.sh" "$tdir/install.sh"
install -m 0644 "$root/resources/desktop-uploader.desktop" "$tdir/share/desktop-uploader.desktop"
cp -p "$fm"/* "$tdir/share/file-managers/"
cp "$root"/resources/icons/desktop-uploader-*.png "$tdir/share/icons/"
tarball="$out/$name.tar.gz"
level=9; [ $fast = 1 ] && level=1
tar -C "$stage" -cf - "$name" | gzip -"$level" > "$stage/$name.tar.gz"
mv "$stage/$name.tar.gz" "$tarball"
echo "built $tarball ($(mb "$tarball") MB)"

# -- .deb: the app ---------------------------------------------------------------------------
droot="$stage/deb"
mkdir -p "$droot/DEBIAN" "$droot/opt" "$droot/usr/bin" "$droot/usr/share/applications"
copy_bundle "$bundle" "$droot/opt/desktop-uploader"
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
# File managers: Dolphin reads service menus from kio/servicemenus (KF6, KF5 >= 5.85) or
# kservices5/ServiceMenus (older KF5); Nautilus and Thunar keep theirs per user, so their files
# go to /usr/share/desktop-uploader/file-managers with how to enable them (docs/packaging.md).
for d in kio/servicemenus kservices5/ServiceMenus; do
  install -D -m 0644 "$fm/desktop-uploader-dolphin.desktop" \
    "$droot/usr/share/$d/desktop-uploader.desktop"
done
install -D -m 0755 "$fm/Upload with Desktop Uploader" \
  "$droot/usr/share/desktop-uploader/file-managers/Upload with Desktop Uploader"
install -m 0644 "$fm/thunar-uca.xml" "$droot/usr/share/desktop-uploader/file-managers/"
installed_kb=$(du -sk --exclude=DEBIAN "$droot" | cut -f1)
sed -e "s/@VERSION@/$version/g" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$installed_kb/" \
  "$here/control.in" > "$droot/DEBIAN/control"
install -m 0755 "$here/postinst" "$droot/DEBIAN/postinst"
install -m 0755 "$here/postinst" "$droot/DEBIAN/postrm"
deb="$out/desktop-uploader_${version}_${arch}.deb"
# xz -9 (a 64 MiB dictionary), the strongest ordinary preset: -6 left the .deb bigger
if [ $fast = 1 ]; then comp=(-Znone); else comp=(-Zxz -z9); fi
dpkg-deb --root-owner-group "${comp[@]}" --build "$droot" "$stage/package.deb" >/dev/null
mv "$stage/package.deb" "$deb"
echo "built $deb ($(mb "$deb") MB)"

# -- .deb: the embedded store ----------------------------------------------------------------
sroot="$stage/deb-store"
mkdir -p "$sroot/DEBIAN" "$sroot/opt"
copy_bundle "$store" "$sroot/opt/desktop-uploader-local-store"
installed_kb=$(du -sk --exclude=DEBIAN "$sroot" | cut -f1)
sed -e "s/@VERSION@/$version/g" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$installed_kb/" \
  "$here/control-local-store.in" > "$sroot/DEBIAN/control"
store_deb="$out/desktop-uploader-local-store_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${comp[@]}" --build "$sroot" "$stage/store.deb" >/dev/null
mv "$stage/store.deb" "$store_deb"
echo "built $store_deb ($(mb "$store_deb") MB)"

# -- sizes -------------------------------------------------------------------------------------
bundle_mb=$(mb "$bundle"); deb_mb=$(mb "$deb")
echo "sizes: bundle $bundle_mb MB (budget $BUNDLE_BUDGET_MB), app .deb $deb_mb MB (budget" \
  "$DEB_BUDGET_MB), local-store .deb $(mb "$store_deb") MB, .tar.gz $(mb "$tarball") MB"
if [ $fast = 0 ]; then
  over=0
  awk -v a="$bundle_mb" -v b=$BUNDLE_BUDGET_MB 'BEGIN { exit !(a > b) }' \
    && { echo "the bundle is over its budget: $bundle_mb MB > $BUNDLE_BUDGET_MB MB" >&2; over=1; }
  awk -v a="$deb_mb" -v b=$DEB_BUDGET_MB 'BEGIN { exit !(a > b) }' \
    && { echo "the app's .deb is over its budget: $deb_mb MB > $DEB_BUDGET_MB MB" >&2; over=1; }
  exit $over
fi
