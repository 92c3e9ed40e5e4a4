#!/usr/bin/env bash
# Build the Linux folder application from packaging/griddesk.spec, in a venv and folders of its
# own (the checkout and its .venv are left as they were), and run the built program's self-check
# on a virtual screen: a fresh demo database, the window, the map page with the bundled Leaflet,
# a chart, the meeting workbook read back, exit 0. Any failure fails the script, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d /tmp/griddesk-pack.XXXXXX)
# PACK_KEEP=1 keeps the build and the self-check's files for a look.
trap '[ -n "${PACK_KEEP:-}" ] && echo "package: kept $work" >&2 || rm -rf "$work"' EXIT
command -v xvfb-run >/dev/null || { echo "package: xvfb-run is missing (Debian: xvfb)" >&2; exit 1; }

t0=$SECONDS
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -c "$root/constraints.txt" -e "$root[package]" \
  || { echo "package: could not install GridDesk and PyInstaller" >&2; exit 1; }
t1=$SECONDS
"$work/venv/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$work/dist" --workpath "$work/build" packaging/griddesk.spec >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; echo "package: the PyInstaller build failed" >&2; exit 1; }
t2=$SECONDS
app="$work/dist/GridDesk"
[ -x "$app/GridDesk" ] && [ -x "$app/griddesk-cli" ] || { echo "package: no executables in $app" >&2; exit 1; }

# Every library the folder links must be in it or on the system (ldd reports a vendored
# library's neighbour as missing when it has no rpath: in the folder, it is found at run time).
# Only the Wayland and GTK plugins may lack theirs here: a desktop that loads them has them.
missing=$(find "$app" -type f \( -name '*.so*' -o -name QtWebEngineProcess -o -name GridDesk \) \
            -print0 | while IFS= read -r -d '' f; do
              ldd "$f" 2>/dev/null | awk '/not found/ {print $1}' | while read -r lib; do
                [ -e "$(dirname "$f")/$lib" ] || [ -e "$app/_internal/$lib" ] || echo "${f#"$app"/}: $lib"
              done
            done | grep -v -E ': lib(wayland-[a-z]+|gtk-3|gdk-3)\.so' | sort -u || true)
if [ -n "$missing" ]; then echo "package: libraries missing from the build:" >&2; echo "$missing" >&2; exit 1; fi

version=$("$app/griddesk-cli" --version)
expected="GridDesk $(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
[ "$version" = "$expected" ] || { echo "package: built '$version', pyproject says '$expected'" >&2; exit 1; }

set +e
QTWEBENGINE_DISABLE_SANDBOX=1 timeout 600 xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$app/GridDesk" selfcheck --out "$work/check" >"$work/verdict.json" 2>"$work/selfcheck.err"
rc=$?
set -e
t3=$SECONDS
cat "$work/verdict.json"
if [ $rc -ne 0 ] || ! grep -q '"ok": true' "$work/verdict.json"; then
  tail -30 "$work/selfcheck.err" >&2
  echo "package: the built program's self-check failed (exit $rc)" >&2
  exit 1
fi
echo "package: $version built in $((t2 - t1)) s (venv $((t1 - t0)) s), $(du -sh "$app" | cut -f1)," \
     "self-check passed in $((t3 - t2)) s"
