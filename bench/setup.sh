#!/usr/bin/env bash
# What the benchmarks need beyond `scripts/install.sh`: Debian's Janus (the peer we measure against)
# a C compiler and libsrtp2 headers for the counting sink (SRTP), and vpxenc (vpx-tools) for the VP8
# the seminar's bot participants send. Installed only when missing; a second run does nothing.
set -euo pipefail
missing=()
for pkg in janus gcc libc6-dev libsrtp2-dev vpx-tools; do
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
