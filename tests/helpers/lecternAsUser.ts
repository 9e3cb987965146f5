// Started by tests/browser/egress.test.ts as an unprivileged user (setpriv), under the generated
// nftables policy: a real Lectern (mediasoup workers + Fastify on 127.0.0.1, the built client served)
// that prints its URL, then answers `connect <host> <port>` lines from its own process, so the test
// can show what the Lectern process itself may and may not reach.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { startLectern } from './lectern.js';

const lectern = await startLectern({}, { workers: 1 });
process.stdout.write(`${JSON.stringify({ url: lectern.url, uid: process.getuid?.() })}\n`);

function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, host, port] = line.trim().split(/\s+/);
  if (command === 'connect' && host && port) process.stdout.write(`${JSON.stringify({ host, port: Number(port), result: await tryConnect(host, Number(port)) })}\n`);
  if (command === 'quit') break;
}
await lectern.close();
process.exit(0);
