#!/usr/bin/env bash
# Install everything a fresh Debian machine needs to run and test Lectern, from the npm registry and
# Debian's repositories only. Safe to run again: a second run takes seconds.
#   - Debian packages: Chromium (browser tests), iproute2 (loopback-only test namespace); the
#     mediasoup build packages are installed by scripts/mediasoup-worker.sh only if it has to build.
#   - npm packages, exactly as locked.
#   - the mediasoup worker: cached, prebuilt download, or built from source (scripts/mediasoup-worker.sh).
#   - the browser client and the server, compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Lectern needs Node.js 20 or newer (found $(node --version))" >&2
  exit 1
fi

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# coturn: the TURN tests run a real relay; firefox-esr: the browser suite runs Firefox too;
# nftables: the egress-lockdown test loads the generated host policy in the test namespace;
# openssl: the TURN-over-TLS test makes its own certificate; redis-server: the cluster tests run a
# real one; ffmpeg: the recorder muxes with it and the tests probe recordings with ffprobe;
# golang-go + pion sources: the bench's pion peer, and the suite's test of it, build offline.
# python3-prometheus-client: the cluster tests parse /metrics with the Prometheus project's own parser.
apt_install chromium iproute2 util-linux ca-certificates coturn firefox-esr nftables openssl \
  redis-server ffmpeg golang-go golang-github-pion-webrtc.v3-dev python3-prometheus-client \
  nginx-light certbot pebble

# npm ci wipes node_modules; skip it when the installed tree already matches the lock file.
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.lectern-lock 2>/dev/null)" != "$lock_hash" ]; then
  # mediasoup's own postinstall would try GitHub; the worker is handled below instead. The browser
  # tests drive Debian's chromium and firefox-esr: no npm package may fetch a browser of its own.
  MEDIASOUP_WORKER_BIN=/dev/null PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.lectern-lock
fi

bash scripts/mediasoup-worker.sh
npm run --silent build

echo "Lectern installed in $(( $(date +%s) - started ))s"
