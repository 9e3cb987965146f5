// Helpers for the LTI tests: the LMS (tests/lti/lmsPlatform.mjs) in its own process, and a real
// Lectern registered with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startLectern, type TestLectern } from '../helpers/lectern.js';

/** The LMS child process and the values an administrator copies from it into Lectern's config. */
export interface TestPlatform {
  issuer: string;
  jwksUrl: string;
  authLoginUrl: string;
  tokenUrl: string;
  clientId: string;
  deploymentId: string;
  /** Tell the LMS where the tool is (it registers `${toolUrl}/lti/launch` as the redirect URI). */
  connect(toolUrl: string): Promise<void>;
  /** The authentication requests the LMS received, in order. */
  requests(): Promise<Array<Record<string, string>>>;
  close(): Promise<void>;
}

/** Start tests/lti/lmsPlatform.mjs. */
export async function startPlatform(): Promise<TestPlatform> {
  const script = fileURLToPath(new URL('./lmsPlatform.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: Interface = createInterface({ input: child.stdout! });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`LMS exited (${code}): ${stderr}`)));
    });
  const info = JSON.parse(await nextLine()) as Omit<TestPlatform, 'connect' | 'requests' | 'close'>;
  return {
    ...info,
    async connect(toolUrl) {
      const ready = nextLine();
      child.stdin!.write(`${JSON.stringify({ toolUrl })}\n`);
      await ready;
    },
    async requests() {
      return (await (await fetch(info.jwksUrl.replace(/\/jwks$/, '/requests'))).json()) as Array<Record<string, string>>;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The `lti` config section registering `platform`, keys in a fresh directory. */
export function ltiConfig(platform: TestPlatform, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    keyDir: mkdtempSync(join(tmpdir(), 'lectern-lti-')),
    platforms: [
      {
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentIds: [platform.deploymentId],
        jwksUrl: platform.jwksUrl,
        authLoginUrl: platform.authLoginUrl,
        tokenUrl: platform.tokenUrl,
      },
    ],
    ...extra,
  };
}

/** A Lectern registered with `platform`, and the platform told where it is. */
export async function startLtiLectern(platform: TestPlatform, workers = 1): Promise<TestLectern> {
  const lectern = await startLectern({ auth: { tokenSecret: 'lti-test-token-secret-at-least-32-bytes' }, lti: ltiConfig(platform) }, { workers });
  await platform.connect(lectern.url);
  return lectern;
}
