// A Lectern in a child process, for tests that kill it (SIGKILL) and look at what it left on disk.
// argv[2]: the audit directory. Prints one JSON line with its URLs once it listens.
import { startLectern } from './lectern.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: lecternChild.ts <audit dir>');
const lectern = await startLectern({ audit: { dir } });
process.stdout.write(`${JSON.stringify({ url: lectern.url, wsUrl: lectern.wsUrl })}\n`);
