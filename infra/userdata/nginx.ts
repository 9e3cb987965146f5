// nginx on a media host: port 80 answers ACME HTTP-01 challenges and redirects the rest; 443
// terminates TLS and proxies to the server on loopback.
//
// Several nodes share the site's name (one A record per node), and each asks Let's Encrypt for a
// certificate covering it. Let's Encrypt validates a challenge against any address the name
// resolves to, so the node that did not start an order must still answer its challenge: a token not
// in the local webroot is asked of the peers on their private addresses (port 80, opened between
// the nodes only), one after the other until one has it. A relayed request carries a header and is
// never relayed again, so a token nobody has is a 404 after one round, not a loop.
// DNS-01 would avoid the relay but needs an API key for the DNS zone on every node, and the
// university's DNS provider (Route 53 being global) is outside the deployment and usually outside
// the country: the key and every change would leave it. HTTP-01 stays between the nodes.

/** The header a relayed challenge request carries (checked by the receiving node). */
export const ACME_RELAY_HEADER = 'X-Lectern-Acme-Relay';

/** nginx's port-80 site for a host. */
export interface AcmeSite {
  /** server_name: the site's name, and this node's own. */
  readonly names: readonly string[];
  /** Where certbot --webroot writes the challenges. */
  readonly webroot: string;
  /** The listen directive's argument (deployed: `80`). */
  readonly listen: string;
  /** The other nodes' `address:port` (deployed: private address, 80); empty for one host. */
  readonly peers: readonly string[];
}

/** The port-80 server block (and, with peers, their upstream). */
export function nginxHttp(site: AcmeSite): string {
  const relay = site.peers.length > 0;
  const challenge = relay
    ? [
        '  location /.well-known/acme-challenge/ {',
        `    root ${site.webroot};`,
        '    try_files $uri @lectern_acme_peers;',
        '  }',
        '  location @lectern_acme_peers {',
        // A request a peer relayed here is answered from this webroot only.
        '    if ($lectern_acme_relayed) { return 404; }',
        '    proxy_pass http://lectern_acme_peers;',
        '    proxy_set_header Host $host;',
        `    proxy_set_header ${ACME_RELAY_HEADER} 1;`,
        // A peer without the token answers 404: ask the next one; a peer that is down: the next one.
        '    proxy_next_upstream error timeout http_404;',
        `    proxy_next_upstream_tries ${site.peers.length};`,
        '    proxy_connect_timeout 2s;',
        '    proxy_read_timeout 5s;',
        '  }',
      ]
    : ['  location /.well-known/acme-challenge/ {', `    root ${site.webroot};`, '  }'];
  return [
    ...(relay
      ? [
          `map $http_${ACME_RELAY_HEADER.toLowerCase().replaceAll('-', '_')} $lectern_acme_relayed {`,
          "  default 1;",
          "  '' 0;",
          '}',
          'upstream lectern_acme_peers {',
          // Never marked down: a challenge is rare, and each must try every peer.
          ...site.peers.map((peer) => `  server ${peer} max_fails=0;`),
          '}',
        ]
      : []),
    'server {',
    `  listen ${site.listen};`,
    `  server_name ${site.names.join(' ')};`,
    ...challenge,
    '  location / { return 301 https://$host$request_uri; }',
    '}',
    '',
  ].join('\n');
}

/** The port-443 server block: TLS with the host's certificate, everything proxied to the server. */
export function nginxHttps(domain: string, upstreamPort: number, serverNames = domain): string {
  return [
    'server {',
    '  listen 443 ssl;',
    '  http2 on;',
    `  server_name ${serverNames};`,
    `  ssl_certificate /etc/letsencrypt/live/${domain}/fullchain.pem;`,
    `  ssl_certificate_key /etc/letsencrypt/live/${domain}/privkey.pem;`,
    '  ssl_protocols TLSv1.2 TLSv1.3;',
    '  location / {',
    `    proxy_pass http://127.0.0.1:${upstreamPort};`,
    '    proxy_http_version 1.1;',
    '    proxy_set_header Upgrade $http_upgrade;',
    '    proxy_set_header Connection "upgrade";',
    '    proxy_set_header Host $host;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Proto https;',
    '    proxy_read_timeout 3600s;',
    '  }',
    '}',
    '',
  ].join('\n');
}
