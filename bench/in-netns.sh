#!/usr/bin/env bash
# Run the bench in a fresh network namespace where only loopback addresses exist (like
# scripts/in-netns.sh), so no packet can leave the machine and /proc/net/snmp counts only our UDP.
# Janus (libnice) never gathers ICE candidates on the loopback interface, so the namespace also gets
# a virtual interface (ifb, or a veth pair) holding 127.0.0.2/32: Janus gathers on it, and since the
# address is local, every packet to it still travels over lo.
set -euo pipefail
if [ "${NETNS_LOOPBACK_ONLY:-}" = 1 ]; then exec "$@"; fi
export NETNS_LOOPBACK_ONLY=1
setup='ip link set lo up
if ip link add bench127 type ifb 2>/dev/null || ip link add bench127 type veth peer name bench127p 2>/dev/null; then
  ip addr add 127.0.0.2/32 dev bench127 && ip link set bench127 up
  ip link show bench127p >/dev/null 2>&1 && ip link set bench127p up
fi
exec "$@"'
if [ "$(id -u)" = 0 ]; then
  exec unshare -n -- sh -c "$setup" sh "$@"
fi
exec unshare -rn -- sh -c "$setup" sh "$@"
