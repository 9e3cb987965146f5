#!/usr/bin/env bash
# Run a command in a fresh network namespace where only loopback is up. Media tests run this way:
# it keeps Chromium from gathering candidates on real interfaces, and it proves that nothing a test
# does can reach another machine. As root: `unshare -n`; otherwise a user namespace (`unshare -rn`).
set -euo pipefail
if [ "${NETNS_LOOPBACK_ONLY:-}" = 1 ]; then exec "$@"; fi
export NETNS_LOOPBACK_ONLY=1
if [ "$(id -u)" = 0 ]; then
  exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
exec unshare -rn -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
