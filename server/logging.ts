// Structured logs without personal data beyond need: client addresses are truncated (IPv4 to /24,
// IPv6 to /48) before they reach any log line, so logs can still show abuse from a network but do
// not identify a student's home connection. The audit reports this as `truncated`.
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyServerOptions } from 'fastify';

/** Keep the network part of an address: a.b.c.0 for IPv4, the first 48 bits for IPv6. */
export function truncateIp(address: string | undefined): string | undefined {
  if (!address) return address;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).concat('0').join('.');
  if (isIPv6(address)) {
    const groups = expandIpv6(address).slice(0, 3);
    return `${groups.join(':')}::`;
  }
  return 'unknown';
}

function expandIpv6(address: string): string[] {
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = new Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** Fastify logger options: pino at `level`, requests logged with truncated addresses. */
export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    serializers: {
      req: (request: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: request.method,
        // Query strings can carry tokens or codes (OIDC callback): log the path only.
        url: request.url.split('?')[0],
        remoteAddress: truncateIp(request.ip ?? request.socket?.remoteAddress),
      }),
    },
  };
}
