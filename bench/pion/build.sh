#!/usr/bin/env bash
# Build the bench's pion SFU (bench/pion/main.go) offline from Debian's Go sources and print the
# binary's path. Cached: a second run with the same sources, Go and pion packages builds nothing.
#
#   bash bench/pion/build.sh          -> prints e.g. ~/.cache/lectern/pion-sfu/<hash>/pion-sfu
#
# Debian packages pion as sources under /usr/share/gocode (golang-github-pion-webrtc.v3-dev and
# its dependencies), for GOPATH mode. pion's import path is github.com/pion/webrtc/v3 but the
# sources sit in github.com/pion/webrtc (with a go.mod saying `module github.com/pion/webrtc/v3`).
# GOPATH mode resolves such /vN paths only for code that itself has a go.mod ("minimal module
# compatibility"), so main.go is built from a scratch GOPATH holding it next to a one-line go.mod.
# Nothing is fetched: GO111MODULE=off, GOPROXY=off, GOFLAGS cleared.
#
# Env: LECTERN_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-~/.cache}/lectern)
#      LECTERN_GOCODE     where the Go sources are (default /usr/share/gocode, Debian's)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GOCODE=${LECTERN_GOCODE:-/usr/share/gocode}
CACHE_ROOT=${LECTERN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lectern}/pion-sfu
DEB_PKGS=(golang-go golang-github-pion-webrtc.v3-dev)

fail() {
  echo "pion-sfu build: $*" >&2
  exit 1
}

command -v go >/dev/null || fail "no 'go' on PATH (apt-get install ${DEB_PKGS[*]})"
[ -f "$GOCODE/src/github.com/pion/webrtc/go.mod" ] || fail "pion/webrtc sources missing under $GOCODE (apt-get install golang-github-pion-webrtc.v3-dev)"

# The cache key: our sources, this script, Go's version and the pion packages' versions.
versions=$(go version; dpkg-query -W -f '${Package} ${Version}\n' "${DEB_PKGS[@]}" 'golang-github-pion-*' 2>/dev/null | sort)
key=$( (cat "$HERE/main.go" "$HERE/build.sh"; echo "$versions") | sha256sum | cut -c1-16)
out=$CACHE_ROOT/$key/pion-sfu
if [ -x "$out" ]; then
  echo "$out"
  exit 0
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/lectern-pion-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
src=$scratch/src/lectern/pion-sfu
mkdir -p "$src" "$CACHE_ROOT/$key"
cp "$HERE/main.go" "$src/"
echo 'module lectern/pion-sfu' >"$src/go.mod"
if ! (cd "$src" && env GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$scratch:$GOCODE" GOCACHE="$CACHE_ROOT/gocache" \
  go build -trimpath -o "$out.tmp" . >"$scratch/log" 2>&1); then
  cat "$scratch/log" >&2
  fail "go build failed (GOPATH mode against $GOCODE; the log is above)"
fi
mv "$out.tmp" "$out"
# Binaries of older sources are never used again (Go's build cache stays: it makes a rebuild ~3 s).
find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name gocache ! -name "$key" -exec rm -rf {} +
echo "$out"
