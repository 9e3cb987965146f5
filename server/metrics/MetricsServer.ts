// The metrics listener: its own socket (loopback by default), apart from the public HTTP server,
// so the scrape endpoint is never reachable where the classes are.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running /metrics listener. */
export class MetricsServer {
  readonly #server: Server;
  /** http://host:port of the listener. */
  readonly url: string;

  /** Listen on host:port (port 0: any free port). */
  static async start(registry: Registry, host: string, port: number): Promise<MetricsServer> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://metrics').pathname !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new MetricsServer(server, `http://${shown}:${address.port}`);
  }

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  /** Stop listening. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
