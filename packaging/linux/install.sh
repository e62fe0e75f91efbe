#!/bin/sh
# Install Desktop Uploader from this unpacked .tar.gz.
#   ./install.sh                  as root: /opt/desktop-uploader, launcher in /usr/local/bin,
#                                 menu entry and icons under /usr/local/share
#                                 as a user: ~/.local/opt/desktop-uploader, ~/.local/bin, ~/.local/share
#   ./install.sh --prefix DIR     DIR/opt/desktop-uploader, DIR/bin, DIR/share
#   ./install.sh --uninstall [--prefix DIR]
# The embedded store (weed) goes beside the app, in …/opt/desktop-uploader-local-store, where
# the app looks for it; file managers get "Upload with Desktop Uploader" (Dolphin's service
# menu; for a user install also Nautilus's script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then prefix=/usr/local; app_dir=/opt/desktop-uploader
else prefix="$HOME/.local"; app_dir="$HOME/.local/opt/desktop-uploader"; fi
uninstall=0
own_prefix=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; app_dir="$2/opt/desktop-uploader"; own_prefix=1; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
store_dir="$(dirname "$app_dir")/desktop-uploader-local-store"
bin="$prefix/bin/desktop-uploader"
servicemenu="$prefix/share/kio/servicemenus/desktop-uploader.desktop"
nautilus_script="$HOME/.local/share/nautilus/scripts/Upload with Desktop Uploader"
desktop="$prefix/share/applications/desktop-uploader.desktop"
icons="$prefix/share/icons/hicolor"

if [ $uninstall = 1 ]; then
  rm -rf "$app_dir" "$store_dir"
  rm -f "$bin" "$desktop" "$servicemenu"
  [ -L "$nautilus_script" ] && [ "$(readlink "$nautilus_script")" = "$app_dir/share/nautilus-script" ] \
    && rm -f "$nautilus_script"
  for d in "$icons"/*/apps; do rm -f "$d/desktop-uploader.png"; done 2>/dev/null || true
  echo "Removed Desktop Uploader from $app_dir (your settings and uploads history stay)."
  exit 0
fi

mkdir -p "$(dirname "$app_dir")" "$prefix/bin" "$prefix/share/applications"
rm -rf "$app_dir.new"
cp -a "$here/desktop-uploader" "$app_dir.new"
rm -rf "$app_dir"
mv "$app_dir.new" "$app_dir"
if [ -d "$here/desktop-uploader-local-store" ]; then
  rm -rf "$store_dir.new"
  cp -a "$here/desktop-uploader-local-store" "$store_dir.new"
  rm -rf "$store_dir"
  mv "$store_dir.new" "$store_dir"
fi
cat > "$bin" <<LAUNCHER
#!/bin/sh
exec "$app_dir/desktop-uploader" "\$@"
LAUNCHER
chmod 0755 "$bin"
# the menu entry names the launcher by full path: ~/.local/bin is not always on PATH
sed -e "s|^Exec=desktop-uploader|Exec=$bin|" -e "s|^TryExec=desktop-uploader|TryExec=$bin|" \
  "$here/share/desktop-uploader.desktop" > "$desktop"
for png in "$here"/share/icons/desktop-uploader-*.png; do
  size=${png##*-}; size=${size%.png}
  mkdir -p "$icons/${size}x${size}/apps"
  cp "$png" "$icons/${size}x${size}/apps/desktop-uploader.png"
done
# Dolphin: a service menu (KF6 runs a user's service menus only when they are executable)
mkdir -p "$(dirname "$servicemenu")"
install -m 0755 "$here/share/file-managers/desktop-uploader-dolphin.desktop" "$servicemenu"
sed -i -e "s|^Exec=desktop-uploader|Exec=$bin|" "$servicemenu"
# Nautilus: scripts live per user only, so only a user install (no --prefix) adds one
if [ "$(id -u)" != 0 ] && [ $own_prefix = 0 ]; then
  mkdir -p "$app_dir/share" "$(dirname "$nautilus_script")"
  sed -e "s|^exec desktop-uploader|exec \"$bin\"|" \
    "$here/share/file-managers/Upload with Desktop Uploader" > "$app_dir/share/nautilus-script"
  chmod 0755 "$app_dir/share/nautilus-script"
  [ -e "$nautilus_script" ] || ln -s "$app_dir/share/nautilus-script" "$nautilus_script"
fi
command -v update-desktop-database >/dev/null 2>&1 \
  && update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
echo "Installed Desktop Uploader $(cat "$app_dir/VERSION") in $app_dir"
echo "Start it from the menu, or run: $bin"
