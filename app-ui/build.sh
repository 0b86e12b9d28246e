#!/usr/bin/env bash
# Builds the wasm interface into app-ui/dist/ (what the Tauri shell embeds):
#   cargo build (wasm32, release) -> wasm-bindgen --target web -> static files.
# Fails loudly if the wasm32 target or a matching wasm-bindgen-cli is missing;
# .ci/setup installs both.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
dist="$here/dist"

die() {
  echo >&2
  echo "app-ui/build.sh: ERROR: $*" >&2
  echo >&2
  exit 1
}

if ! rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
  die "the Rust target wasm32-unknown-unknown is not installed.
    Fix: rustup target add wasm32-unknown-unknown   (or run .ci/setup)"
fi

lock="$root/Cargo.lock"
[[ -f "$lock" ]] || (cd "$root" && cargo generate-lockfile)
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$lock")"
[[ -n "$want" ]] || die "no wasm-bindgen entry in Cargo.lock"

if ! command -v wasm-bindgen >/dev/null 2>&1; then
  die "wasm-bindgen-cli is not installed (Cargo.lock needs $want).
    Fix: cargo install wasm-bindgen-cli --version =$want   (or run .ci/setup)"
fi
have="$(wasm-bindgen --version | awk '{ print $2 }')"
if [[ "$have" != "$want" ]]; then
  die "wasm-bindgen-cli is $have but Cargo.lock has wasm-bindgen $want; they must match exactly.
    Fix: cargo install wasm-bindgen-cli --version =$want --force   (or run .ci/setup)"
fi

echo "app-ui/build.sh: cargo build (wasm32, release) into $target_dir"
(cd "$root" && cargo build -p app-ui --bin app-ui --target wasm32-unknown-unknown --release)

wasm="$target_dir/wasm32-unknown-unknown/release/app-ui.wasm"
[[ -f "$wasm" ]] || die "expected $wasm after the build"

rm -rf "$dist"
mkdir -p "$dist"
wasm-bindgen --target web --no-typescript --out-dir "$dist" --out-name app-ui "$wasm"
cp "$here/static/index.html" "$here/static/boot.js" "$here/static/style.css" "$here/static/admin.css" "$dist/"

echo "app-ui/build.sh: built $dist:"
ls -l "$dist"
