#!/bin/sh
# Install Desktop Uploader from this unpacked .tar.gz.
#   ./install.sh                  as root: /opt/desktop-uploader, launcher in /usr/local/bin,
#                                 menu entry and icons under /usr/local/share
#                                 as a user: ~/.local/opt/desktop-uploader, ~/.local/bin, ~/.local/share
#   ./install.sh --prefix DIR     DIR/opt/desktop-uploader, DIR/bin, DIR/share
#   ./install.sh --uninstall [--prefix DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then prefix=/usr/local; app_dir=/opt/desktop-uploader
else prefix="$HOME/.local"; app_dir="$HOME/.local/opt/desktop-uploader"; fi
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; app_dir="$2/opt/desktop-uploader"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
bin="$prefix/bin/desktop-uploader"
desktop="$prefix/share/applications/desktop-uploader.desktop"
icons="$prefix/share/icons/hicolor"

if [ $uninstall = 1 ]; then
  rm -rf "$app_dir"
  rm -f "$bin" "$desktop"
  for d in "$icons"/*/apps; do rm -f "$d/desktop-uploader.png"; done 2>/dev/null || true
  echo "Removed Desktop Uploader from $app_dir (your settings and uploads history stay)."
  exit 0
fi

mkdir -p "$(dirname "$app_dir")" "$prefix/bin" "$prefix/share/applications"
rm -rf "$app_dir.new"
cp -a "$here/desktop-uploader" "$app_dir.new"
rm -rf "$app_dir"
mv "$app_dir.new" "$app_dir"
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
command -v update-desktop-database >/dev/null 2>&1 \
  && update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
echo "Installed Desktop Uploader $(cat "$app_dir/VERSION") in $app_dir"
echo "Start it from the menu, or run: $bin"
