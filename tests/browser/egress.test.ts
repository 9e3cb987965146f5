// Issue 13 item 4, for real: the generated nftables policy, loaded into this test's own network
// namespace, keeps a Lectern process running as an unprivileged user from opening any connection
// but the listed ones, while a Chromium participant still sends and receives media through it.
// A dummy interface holds two TEST-NET-2 addresses (never routable): one stands for a foreign host,
// one for the university's sign-in provider (an allowed destination). Run with
// `bash scripts/in-netns.sh npx vitest run tests/browser/egress.test.ts` (as root inside it).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, nonLoopbackInterfaces } from '../helpers/chromium.js';
import { planDeployment } from '../../infra/plan.js';
import { deployedServerConfig } from '../../infra/server-config.js';
import { egressDestinations } from '../../infra/egress/destinations.js';
import { nftablesRuleset, type EgressRuleset } from '../../infra/egress/nftables.js';
import { stackConfig } from '../infra/support/harness.js';
import { projectRoot } from '../../server/paths.js';

const LINK = 'lectern-foreign';
const FOREIGN = '198.51.100.7';
const SIGN_IN = '198.51.100.20';
const SIGN_IN_PORT = 8443;
const NOBODY = 65534;
// No such user need exist: a numeric skuid rule loads without one (the TURN user is not started here).
const COTURN_UID = 65533;
const ROOM = 'egress-physics';

let ruleset: EgressRuleset;
let link: string | undefined;
let lectern: ChildProcessWithoutNullStreams;
let lecternUrl: string;
let replies: AsyncIterator<string>;
let browser: Browser;
const servers: Server[] = [];
const contexts: BrowserContext[] = [];

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const denied = (): number => {
  const out = JSON.parse(sh('nft', '-j', 'list', 'counter', 'inet', ruleset.table, ruleset.deniedCounters.lectern)) as { nftables: Array<{ counter?: { packets: number } }> };
  return out.nftables.find((e) => e.counter)!.counter!.packets;
};

/** Ask the Lectern process (running as nobody) to open a TCP connection; its own socket's result. */
async function connectFromLectern(host: string, port: number): Promise<string> {
  lectern.stdin.write(`connect ${host} ${port}\n`);
  const line = await replies.next();
  return (JSON.parse(line.value as string) as { result: string }).result;
}

function listen(host: string, port: number): Promise<void> {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
}

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run through scripts/in-netns.sh: the policy and the dummy link must stay in a private namespace').toEqual([]);
  expect(process.getuid?.(), 'the namespace test loads nftables and drops to an unprivileged user: run as root inside scripts/in-netns.sh').toBe(0);
  try {
    sh('ip', 'link', 'add', LINK, 'type', 'dummy');
    sh('ip', 'link', 'set', LINK, 'up');
    link = LINK;
  } catch {
    // A kernel without the dummy driver (containers often lack it): the addresses go on this
    // namespace's loopback instead. The policy matches destination addresses, not interfaces, so
    // the test means the same; the namespace still keeps them off any real network.
    link = 'lo';
  }
  for (const address of [FOREIGN, SIGN_IN]) sh('ip', 'addr', 'add', `${address}/32`, 'dev', link);
  // Something answers on both: a refusal below is the policy, not an empty port.
  await listen(FOREIGN, SIGN_IN_PORT);
  await listen(SIGN_IN, SIGN_IN_PORT);
  await listen(SIGN_IN, 9443);

  // The destination list of a real plan (the Canadian example) whose sign-in provider is at SIGN_IN.
  const plan = planDeployment(stackConfig('Pulumi.example-ca.yaml', { 'lectern:auth': { oidc: { issuer: `https://${SIGN_IN}:${SIGN_IN_PORT}`, clientId: 'lectern' } } }));
  const serverConfig = deployedServerConfig(plan, { announcedAddress: '127.0.0.1' });
  const destinations = egressDestinations('media', { serverConfig, deployment: plan.deployment, region: plan.placement.providerRegion, sfuAddress: '127.0.0.1', bucket: 'lectern-recordings' });
  ruleset = nftablesRuleset(destinations, { lectern: NOBODY, coturn: COTURN_UID });

  // Lectern as nobody: its mediasoup workers are its children and run as nobody too.
  lectern = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '--import', 'tsx', join('tests', 'helpers', 'lecternAsUser.ts')], {
    cwd: projectRoot(),
    env: { ...process.env, HOME: '/tmp', NODE_ENV: 'test' },
  });
  lectern.stderr.on('data', (d: Buffer) => process.stderr.write(`[lectern as nobody] ${d}`));
  replies = createInterface({ input: lectern.stdout })[Symbol.asyncIterator]();
  const first = JSON.parse((await replies.next()).value as string) as { url: string; uid: number };
  expect(first.uid).toBe(NOBODY);
  lecternUrl = first.url;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  if (lectern && lectern.exitCode === null) {
    lectern.stdin.write('quit\n');
    await new Promise((resolve) => lectern.once('exit', resolve));
  }
  for (const server of servers) server.close();
  try {
    sh('nft', 'delete', 'table', 'inet', 'lectern_egress');
  } catch {
    // not loaded (a failure before the policy test)
  }
  try {
    if (link === LINK) sh('ip', 'link', 'del', LINK);
    else if (link === 'lo') for (const address of [FOREIGN, SIGN_IN]) sh('ip', 'addr', 'del', `${address}/32`, 'dev', 'lo');
  } catch {
    // not created
  }
});

async function joinAs(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${lecternUrl}/r/${ROOM}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible' });
  return page;
}

async function tileStats(page: Page, name: string): Promise<{ framesDecoded: number; audioPackets: number }> {
  return page.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement) => ({
    framesDecoded: Number(el.dataset.framesDecoded ?? 0),
    audioPackets: Number(el.dataset.audioPackets ?? 0),
  }));
}

async function expectReceiving(viewer: Page, sender: string): Promise<void> {
  await expect.poll(async () => (await tileStats(viewer, sender)).framesDecoded, { timeout: 30_000, interval: 500 }).toBeGreaterThan(10);
  await expect.poll(async () => (await tileStats(viewer, sender)).audioPackets, { timeout: 30_000, interval: 500 }).toBeGreaterThan(20);
}

describe('egress lockdown on a host (nftables, real processes)', () => {
  it('without the policy, the Lectern process reaches the "foreign" host (the test can fail)', async () => {
    expect(await connectFromLectern(FOREIGN, SIGN_IN_PORT)).toBe('connected');
  });

  it('with the generated policy loaded, the Lectern process may reach only its listed destinations', async () => {
    // Kept for the reader: exactly what was loaded.
    mkdirSync(join(projectRoot(), 'tests', 'artifacts'), { recursive: true });
    writeFileSync(join(projectRoot(), 'tests', 'artifacts', 'egress.nft'), ruleset.text);
    execFileSync('nft', ['-f', '-'], { input: ruleset.text });
    const before = denied();
    expect(await connectFromLectern(FOREIGN, SIGN_IN_PORT)).toBe('ECONNREFUSED');
    expect(await connectFromLectern(FOREIGN, 443)).toBe('ECONNREFUSED');
    // The sign-in provider is listed, on its port only.
    expect(await connectFromLectern(SIGN_IN, SIGN_IN_PORT)).toBe('connected');
    expect(await connectFromLectern(SIGN_IN, 9443)).toBe('ECONNREFUSED');
    // Loopback is no exception: a local proxy would be a way out.
    expect(await connectFromLectern('127.0.0.1', 9)).toBe('ECONNREFUSED');
    expect(denied() - before).toBe(4);
    // root (this test process) is not restricted: the foreign listener is up; it is the policy that refuses.
    const root = await new Promise<string>((resolve) => {
      const c = connect({ host: FOREIGN, port: SIGN_IN_PORT });
      c.once('connect', () => (c.destroy(), resolve('connected')));
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(root).toBe('connected');
  });

  it('a Chromium participant still sends and receives media through the locked-down Lectern', async () => {
    const deniedBefore = denied();
    const ada = await joinAs('Ada');
    const bob = await joinAs('Bob');
    await expectReceiving(bob, 'Ada');
    await expectReceiving(ada, 'Bob');
    // Signalling and media were all replies to what the browsers opened: the policy refused none of it.
    expect(denied()).toBe(deniedBefore);
    // The policy is still the one loaded, and still refuses.
    expect(await connectFromLectern(FOREIGN, SIGN_IN_PORT)).toBe('ECONNREFUSED');
  }, 120_000);
});
