// Domains under which anyone can get a name: tunnelling services and shared hosting. A deployment's
// URL on one of them is not "the university's own host": every byte goes through the service's
// servers (ngrok's edge, Cloudflare's tunnel), whatever country the origin machine is in, and every
// other name under the same domain belongs to someone else. Public-suffix-style: the listed domain
// and all names under it.
const SHARED_DOMAINS: Array<[domain: string, what: string]> = [
  ['ngrok.io', 'ngrok tunnel'],
  ['ngrok.app', 'ngrok tunnel'],
  ['ngrok.dev', 'ngrok tunnel'],
  ['ngrok-free.app', 'ngrok tunnel'],
  ['ngrok-free.dev', 'ngrok tunnel'],
  ['trycloudflare.com', 'Cloudflare quick tunnel'],
  ['cfargotunnel.com', 'Cloudflare tunnel'],
  ['loca.lt', 'localtunnel'],
  ['localtunnel.me', 'localtunnel'],
  ['serveo.net', 'Serveo tunnel'],
  ['serveousercontent.com', 'Serveo tunnel'],
  ['localhost.run', 'localhost.run tunnel'],
  ['lhr.life', 'localhost.run tunnel'],
  ['lhr.rocks', 'localhost.run tunnel'],
  ['pagekite.me', 'PageKite tunnel'],
  ['telebit.io', 'Telebit tunnel'],
  ['tunnelto.dev', 'tunnelto tunnel'],
  ['bore.pub', 'bore tunnel'],
  ['loclx.io', 'LocalXpose tunnel'],
  ['pinggy.io', 'Pinggy tunnel'],
  ['pinggy.link', 'Pinggy tunnel'],
  ['devtunnels.ms', 'Microsoft dev tunnel'],
  ['ts.net', 'Tailscale Funnel'],
  ['zrok.io', 'zrok tunnel'],
  ['expose.dev', 'Expose tunnel'],
  ['nip.io', 'wildcard DNS for any address'],
  ['sslip.io', 'wildcard DNS for any address'],
  ['xip.io', 'wildcard DNS for any address'],
  ['github.io', 'GitHub Pages'],
  ['netlify.app', 'Netlify'],
  ['vercel.app', 'Vercel'],
  ['pages.dev', 'Cloudflare Pages'],
  ['workers.dev', 'Cloudflare Workers'],
  ['herokuapp.com', 'Heroku'],
  ['web.app', 'Firebase Hosting'],
  ['firebaseapp.com', 'Firebase Hosting'],
  ['glitch.me', 'Glitch'],
  ['onrender.com', 'Render'],
  ['fly.dev', 'Fly.io'],
  ['azurewebsites.net', 'Azure App Service'],
  ['cloudfront.net', 'Amazon CloudFront'],
  ['amazonaws.com', 'AWS shared names'],
  ['duckdns.org', 'dynamic DNS'],
  ['no-ip.org', 'dynamic DNS'],
];

/** The tunnelling or shared-hosting service a host name belongs to, if any. */
export function sharedDomainOf(host: string): { domain: string; what: string } | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  const hit = SHARED_DOMAINS.find(([domain]) => h === domain || h.endsWith(`.${domain}`));
  return hit ? { domain: hit[0], what: hit[1] } : undefined;
}
