// Child process for the crash test: appends entries as fast as it can until it is killed.
import { AuditLog } from '../../../audit/log/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: append-forever.ts <dir>');
const log = await AuditLog.open(dir);
process.stdout.write('ready\n');
for (let i = 0; ; i += 1) {
  await Promise.all(
    Array.from({ length: 8 }, (_, j) =>
      log.append({ actor: { kind: 'user', id: `student-${i}-${j}` }, action: 'peer.joined', subject: 'room-1', details: { padding: 'x'.repeat(2000) } }),
    ),
  );
}
