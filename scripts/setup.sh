#!/usr/bin/env bash
# Installs every tool Sketchboard needs to build, run and test, skipping what is
# already present at the right version. Safe to run again and again.
#
# Installs: the wasm32 target, cargo-leptos (with `no_downloads`), wasm-bindgen-cli
# at the exact version in Cargo.lock, Debian's Chromium + ChromeDriver (browser
# tests only), Debian's redis-server, haproxy and postgresql (several nodes, and the
# tests) and the npm packages of end2end/ (browser tests only).
#
#   scripts/setup.sh            # tools to build and run the app
#   scripts/setup.sh --cluster  # also Redis and HAProxy, for scripts/cluster.sh
#   scripts/setup.sh --tests    # also what the test suite needs
#   scripts/setup.sh --release  # also wasm-opt, for release builds (tools/node_modules/.bin)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO_LEPTOS_VERSION=0.3.11
WANT_TESTS=0
WANT_RELEASE=0
WANT_CLUSTER=0
for arg in "$@"; do
  case "$arg" in
    --tests) WANT_TESTS=1; WANT_CLUSTER=1 ;;
    --cluster) WANT_CLUSTER=1 ;;
    --release) WANT_RELEASE=1 ;;
    *) echo "usage: scripts/setup.sh [--tests] [--cluster] [--release]" >&2; exit 2 ;;
  esac
done

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian packages, installed only when missing.
APT_UPDATED=0
apt_install() {
  log "installing Debian packages: $*"
  local sudo=""
  [[ $(id -u) != 0 ]] && sudo=sudo
  if [[ $APT_UPDATED == 0 ]]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# rusqlite compiles SQLite from C; the tools link natively.
command -v cc >/dev/null || apt_install build-essential

# Unpack the source of crate $1 at version $2 into a fresh temporary folder and
# print its path. `cargo info` puts the .crate file into cargo's own cache.
crate_source() {
  local name=$1 version=$2 crate dir
  cargo info --quiet "$name@$version" >/dev/null
  crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate" | head -n 1)
  dir=$(mktemp -d)
  tar -xzf "$crate" -C "$dir"
  echo "$dir/$name-$version"
}

# A release build of a tool with LTO off and many codegen units: a quarter of
# the time on 2 cores, and these tools are not on any hot path.
install_from_source() {
  local dir=$1; shift
  (cd "$dir" && CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --path . --locked --force "$@")
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores)"
  src=$(crate_source cargo-leptos "$CARGO_LEPTOS_VERSION")
  # Its lock file pins a cargo-util-schemas that needs a newer rustc than ours.
  (cd "$src" && cargo update --quiet -p cargo-util-schemas --precise 0.14.1)
  install_from_source "$src" --features no_downloads
  rm -rf "$(dirname "$src")"
fi

# wasm-bindgen-cli must match the wasm-bindgen library in Cargo.lock exactly.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ROOT/Cargo.lock")
if [[ -z "$WB_VERSION" ]]; then
  log "no wasm-bindgen in Cargo.lock yet; generating it"
  cargo generate-lockfile --manifest-path "$ROOT/Cargo.toml"
  WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ROOT/Cargo.lock")
fi
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION"* ]]; then
  log "installing wasm-bindgen-cli $WB_VERSION (about 3 minutes)"
  src=$(crate_source wasm-bindgen-cli "$WB_VERSION")
  # Its lock file pins a webpki-roots release the registry no longer serves.
  (cd "$src" && { cargo update --quiet -p webpki-roots --precise 1.0.10 2>/dev/null || true; })
  install_from_source "$src"
  rm -rf "$(dirname "$src")"
fi

# npm ci only when a lock file changed since the last install (a stamp records it).
npm_ci() {
  local dir=$1
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json" 2>/dev/null; then
    log "installing the npm packages of $dir/ (npm ci)"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error &&
      cp package-lock.json node_modules/.installed-lock.json)
  fi
}

if [[ $WANT_TESTS == 1 ]]; then
  if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    apt_install chromium chromium-driver
  fi
  npm_ci end2end
fi

# Several nodes: scripts/cluster.sh, and the tests, which start their own on loopback ports.
if [[ $WANT_CLUSTER == 1 ]] && { ! command -v redis-server >/dev/null || ! command -v haproxy >/dev/null; }; then
  apt_install redis-server haproxy
fi
# History archived to PostgreSQL (--history-url): the tests start their own server.
if [[ $WANT_CLUSTER == 1 ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  apt_install postgresql
fi

if [[ $WANT_RELEASE == 1 ]]; then
  # Release builds run wasm-opt. Debian's binaryen (108) breaks the bundle;
  # the npm build of binaryen 132 works. Callers put tools/node_modules/.bin on PATH.
  npm_ci tools
fi

log "tools ready: $(cargo leptos --version), $(wasm-bindgen --version)"
