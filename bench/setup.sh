#!/usr/bin/env bash
# What the benchmarks need beyond `scripts/install.sh`: Debian's Janus (the peer we measure against)
# a C compiler and libsrtp2 headers for the counting sink (SRTP), and vpxenc (vpx-tools) for the VP8
# the seminar's bot participants send, and Go with Debian's pion/webrtc sources for the pion SFU of
# the comparison (built by bench/pion/build.sh, cached). Installed only when missing; a second run
# does nothing.
set -euo pipefail
missing=()
for pkg in janus gcc libc6-dev libsrtp2-dev vpx-tools golang-go golang-github-pion-webrtc.v3-dev; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bench: installing ${missing[*]}"
  $sudo apt-get update -qq
  # Janus is only run by hand from the bench's own loopback config: keep its service from starting.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if command -v systemctl >/dev/null && systemctl is-active --quiet janus 2>/dev/null; then $sudo systemctl stop janus || true; fi
fi
# Build the pion SFU now (offline, ~15 s the first time), so the comparison does not wait for it. A
# failure does not stop the bench: the comparison then skips pion and prints the same message.
bash "$(dirname "${BASH_SOURCE[0]}")/pion/build.sh" >/dev/null || echo "bench: the pion SFU did not build; the comparison will skip it" >&2
