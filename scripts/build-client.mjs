// Bundle the browser client into client/dist: one ES module, one stylesheet, one page. Everything
// is served by Lectern itself; the bundle references no other host (the audit checks it).
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'client', 'dist');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'client', 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  // mediasoup-client uses the `debug` package, which reads process.env in some paths.
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
// The playback page (/play/<id>): its own small bundle, no mediasoup-client.
await build({
  entryPoints: [join(root, 'client', 'src', 'playback', 'main.ts')],
  outfile: join(out, 'play.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(join(root, 'client', 'index.html'), join(out, 'index.html'));
await copyFile(join(root, 'client', 'playback.html'), join(out, 'playback.html'));
await copyFile(join(root, 'client', 'styles.css'), join(out, 'styles.css'));
console.log(`client built into ${out}`);
