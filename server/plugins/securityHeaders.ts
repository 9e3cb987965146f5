// Security headers, above all a Content-Security-Policy that lets the page talk to its own origin
// only: no CDN, no web fonts, no analytics, no third-party images. WebRTC is outside CSP's reach,
// which is why the client takes ICE servers only from the server (see the join reply).
import type { FastifyInstance, FastifyReply } from 'fastify';
import helmet from '@fastify/helmet';

/** The CSP directives; exported so tests and the audit can check exactly what is served. */
export const contentSecurityPolicy = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  mediaSrc: ["'self'", 'blob:'],
  // 'self' covers ws:/wss: to the same host in CSP Level 3 browsers (Chromium, Firefox).
  connectSrc: ["'self'"],
  fontSrc: ["'none'"],
  objectSrc: ["'none'"],
  frameSrc: ["'none'"],
  workerSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
} as const;

/** Options of securityHeaders. */
export interface SecurityHeadersOptions {
  https: boolean;
  /**
   * Origins allowed to frame routes marked `config: { frameable: true }` (the class page and the LTI
   * launch, framed by the registered LMSes). Empty: nothing is frameable anywhere.
   */
  frameAncestors?: readonly string[];
}

/** Register helmet with Lectern's policy. */
export async function securityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...contentSecurityPolicy,
        ...(options.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: options.https ? { maxAge: 31536000, includeSubDomains: false } : false,
  });
  app.addHook('onSend', async (_request, reply) => {
    // Camera, microphone and screen for this origin only; nothing else a class page needs.
    reply.header(
      'Permissions-Policy',
      'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=(), interest-cohort=()',
    );
  });
  const ancestors = options.frameAncestors ?? [];
  if (ancestors.length === 0) return;
  // Same policy with only frame-ancestors widened, for the routes an LMS embeds; X-Frame-Options
  // cannot name origins, and browsers ignore it when frame-ancestors is present, so it is dropped.
  const framed = { ...contentSecurityPolicy, frameAncestors: ["'self'", ...ancestors], ...(options.https ? { upgradeInsecureRequests: [] } : {}) };
  app.addHook('onRequest', async (request, reply) => {
    if ((request.routeOptions.config as { frameable?: boolean }).frameable !== true) return;
    reply.helmet({ contentSecurityPolicy: { useDefaults: false, directives: framed }, frameguard: false });
    reply.raw.removeHeader('x-frame-options');
  });
}

/**
 * Let this one response's forms post to `origin` as well as to Lectern (the Deep Linking answer goes
 * back to the LMS). Rewrites only the form-action directive of the policy already set on the reply.
 */
export function allowFormPostTo(reply: FastifyReply, origin: string): void {
  const policy = reply.raw.getHeader('content-security-policy');
  if (typeof policy !== 'string') return;
  const directives = policy.split(';').map((d) => d.trim()).filter((d) => d !== '');
  const widened = directives.map((d) => (d.split(/\s+/)[0] === 'form-action' ? `${d} ${origin}` : d));
  reply.raw.setHeader('content-security-policy', widened.join(';'));
}
