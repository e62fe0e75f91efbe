#!/usr/bin/env bash
# macOS: sign, package and (optionally) notarize "Desktop Uploader.app" as a DMG.
# NOT TESTED on macOS yet: written for a macos-14 (Apple silicon) CI runner; see docs/packaging.md.
#
#   pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/desktop_uploader.spec
#   python3 packaging/smoke_test.py dist/desktop-uploader/desktop-uploader
#   packaging/macos/make_dmg.sh
#
# Environment (all optional; without them the DMG is unsigned, fine for a test build):
#   DU_CODESIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)" — also read by the spec
#   DU_NOTARY_PROFILE      a notarytool keychain profile (xcrun notarytool store-credentials)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
app="$root/dist/Desktop Uploader.app"
[ -d "$app" ] || { echo "no $app: build it with the spec on macOS first" >&2; exit 1; }
version=$(cat "$root/dist/desktop-uploader/VERSION")
arch=$(uname -m)
dmg="$root/dist/DesktopUploader-$version-macos-$arch.dmg"

if [ -n "${DU_CODESIGN_IDENTITY:-}" ]; then
  # weed is a plain executable inside the bundle: sign it (hardened runtime) like the rest
  find "$app/Contents" -type f \( -name weed -o -name '*.dylib' -o -name '*.so' \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime \
      --entitlements "$here/entitlements.plist" --sign "$DU_CODESIGN_IDENTITY"
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --sign "$DU_CODESIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
fi

stage="$root/build/macos/dmg"
rm -rf "$stage" && mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"   # drag-to-install
rm -f "$dmg"
hdiutil create -volname "Desktop Uploader $version" -srcfolder "$stage" -ov -format UDZO "$dmg"

if [ -n "${DU_CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$DU_CODESIGN_IDENTITY" "$dmg"
fi
if [ -n "${DU_NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$DU_NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "built $dmg"
