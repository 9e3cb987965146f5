// TURN with credentials that expire, against a real coturn started here on loopback (TLS with a
// certificate made for the run, coturn's REST API secret as deployed). Participants are told to use
// relayed candidates only, so every packet between Chromium and the SFU goes through coturn: over
// UDP, over TCP and over TLS. A credential whose expiry has passed is refused by coturn itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces } from '../helpers/chromium.js';
import { LeakRecorder } from '../helpers/leakRecorder.js';
import { startCoturn, type TestCoturn } from '../helpers/coturn.js';
import { TurnCredentials } from '../../server/ice/TurnCredentials.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

const TTL_SECONDS = 600;

let coturn: TestCoturn;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  coturn = await startCoturn();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await trustingBrowser?.close();
  await coturn?.close();
});

// Chromium checks a turns: server's certificate like any other (see the last test): the TLS case
// needs a Chromium that accepts the test's self-signed certificate. Only that case gets the flag.
let trustingBrowser: Browser | undefined;
async function browserTrustingTestCertificate(): Promise<Browser> {
  trustingBrowser ??= await launchChromium(['--ignore-certificate-errors']);
  return trustingBrowser;
}

/** A Lectern that hands out `url` as its only TURN server and makes browsers use relays only. */
async function lecternWithTurn(url: string): Promise<TestLectern> {
  return startLectern({ ice: { relayOnly: true, turn: { urls: [url], secret: coturn.secret, credentialTtlSeconds: TTL_SECONDS } } });
}

/** Open the room in a fresh profile (WebRTC recorded), type a name and join. */
async function joinAs(lectern: TestLectern, room: string, name: string, chromium: Browser = browser): Promise<Page> {
  const context = await chromium.newContext({ viewport: { width: 800, height: 600 } });
  contexts.push(context);
  await LeakRecorder.install(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`[${name}] ${error.message}`));
  await page.goto(`${lectern.url}/r/${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible' });
  return page;
}

async function framesDecoded(viewer: Page, sender: string): Promise<number> {
  return viewer.locator(`.tile[aria-label="${sender}"]`).evaluate((el: HTMLElement) => Number(el.dataset.framesDecoded ?? 0));
}

/** `viewer` decodes `sender`'s video, and keeps decoding. */
async function expectDecoding(viewer: Page, sender: string): Promise<number> {
  await expect.poll(() => framesDecoded(viewer, sender), { timeout: 30_000, interval: 500 }).toBeGreaterThan(10);
  const first = await framesDecoded(viewer, sender);
  await expect.poll(() => framesDecoded(viewer, sender), { timeout: 10_000, interval: 500 }).toBeGreaterThan(first);
  return framesDecoded(viewer, sender);
}

/** The selected pair of every open PeerConnection in the page: its local candidate's type and relay protocol. */
async function selectedPairs(page: Page): Promise<Array<{ candidateType: string; relayProtocol: string | null; url: string | null }>> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __leakRecorder: { pcs: RTCPeerConnection[] } }).__leakRecorder.pcs;
    const pairs: Array<{ candidateType: string; relayProtocol: string | null; url: string | null }> = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const reports = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((r: Record<string, unknown>) => reports.set(String(r.id), r));
      for (const r of reports.values()) {
        if (r.type !== 'transport' || typeof r.selectedCandidatePairId !== 'string') continue;
        const local = reports.get(String(reports.get(r.selectedCandidatePairId)?.localCandidateId));
        pairs.push({
          candidateType: String(local?.candidateType),
          relayProtocol: (local?.relayProtocol as string | undefined) ?? null,
          url: (local?.url as string | undefined) ?? null,
        });
      }
    }
    return pairs;
  });
}

/** The usernames coturn authenticated allocations for (its log, not ours). */
function allocatedUsernames(): string[] {
  const users = new Set<string>();
  for (const line of coturn.log()) {
    const m = /user <([^>]+)>: incoming packet ALLOCATE processed, success/.exec(line);
    if (m) users.add(m[1]!);
  }
  return [...users];
}

describe.each([
  ['UDP', 'udp', () => coturn.udpUrl, false],
  ['TCP', 'tcp', () => coturn.tcpUrl, false],
  ['TLS', 'tls', () => coturn.tlsUrl, true],
] as const)('a relay-only class through coturn over %s', (_name, relayProtocol, url, selfSignedTls) => {
  let lectern: TestLectern;
  let chromium: Browser;
  beforeAll(async () => {
    lectern = await lecternWithTurn(url());
    chromium = selfSignedTls ? await browserTrustingTestCertificate() : browser;
  });
  afterAll(async () => {
    await lectern?.close();
  });

  it('both participants see each other, every transport on a relayed candidate pair', async () => {
    const room = `turn-${relayProtocol}`;
    const startedAt = Math.floor(Date.now() / 1000);
    const before = new Set(allocatedUsernames());
    const ada = await joinAs(lectern, room, 'Ada', chromium);
    const bob = await joinAs(lectern, room, 'Bob', chromium);
    const adaFrames = await expectDecoding(ada, 'Bob');
    const bobFrames = await expectDecoding(bob, 'Ada');
    for (const page of [ada, bob]) {
      const pairs = await selectedPairs(page);
      // Send and receive transport, both through coturn on the protocol under test.
      expect(pairs).toHaveLength(2);
      for (const pair of pairs) {
        expect(pair.candidateType).toBe('relay');
        expect(pair.relayProtocol).toBe(relayProtocol);
      }
    }
    // coturn itself authenticated the allocations, with usernames `<expiry>:<peer id>` the server minted.
    const minted = allocatedUsernames().filter((u) => !before.has(u));
    expect(minted.length).toBeGreaterThanOrEqual(2);
    const peers = new Set(minted.map((u) => u.split(':')[1]));
    expect(peers.size).toBe(2);
    for (const username of minted) {
      const expiry = Number(username.split(':')[0]);
      expect(expiry).toBeGreaterThanOrEqual(startedAt + TTL_SECONDS);
      expect(expiry).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + TTL_SECONDS);
    }
    console.log(`TURN over ${relayProtocol}: frames decoded Ada<-Bob ${adaFrames}, Bob<-Ada ${bobFrames}; coturn users ${minted.join(', ')}`);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});

/** Gather relay candidates in a page with one TURN server; what came back and what failed. */
async function gatherRelay(page: Page, server: { urls: string; username: string; credential: string }) {
  return page.evaluate(async (iceServer) => {
    const pc = new RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
    const relays: string[] = [];
    const errors: Array<{ errorCode: number; errorText: string; url: string }> = [];
    // Done at the first answer from the server (a relay or an error), or when gathering ends.
    let settle: () => void = () => undefined;
    const complete = new Promise<void>((resolve) => {
      settle = resolve;
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate?.type === 'relay') relays.push(e.candidate.candidate);
      if (e.candidate?.type === 'relay') settle();
    });
    pc.addEventListener('icecandidateerror', (e) => {
      const error = e as RTCPeerConnectionIceErrorEvent;
      errors.push({ errorCode: error.errorCode, errorText: error.errorText, url: error.url });
      settle();
    });
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await Promise.race([complete, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    pc.close();
    return { relays, errors, gathering: pc.iceGatheringState };
  }, server);
}

describe('credentials that expire', () => {
  it('coturn gives a relay for the credential a join hands out and refuses (401) the same peer once its expiry has passed', async () => {
    const lectern = await lecternWithTurn(coturn.udpUrl);
    const signalling = await SignallingClient.connect(lectern.wsUrl);
    try {
      const joined = await signalling.ok('join', { room: 'turn-expiry', displayName: 'Cleo' });
      const server = (joined.iceServers as Array<{ urls: string[]; username: string; credential: string }>)[0]!;
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();

      const accepted = await gatherRelay(page, { urls: server.urls[0]!, username: server.username, credential: server.credential });
      expect(accepted.relays.length).toBeGreaterThan(0);
      expect(accepted.errors).toEqual([]);

      // Same secret, same peer, a correct HMAC: only the expiry (a minute ago) differs.
      const expired = new TurnCredentials(coturn.secret, TTL_SECONDS).mintExpiring(joined.peerId as string, Math.floor(Date.now() / 1000) - 60);
      const refused = await gatherRelay(page, { urls: coturn.udpUrl, username: expired.username, credential: expired.credential });
      expect(refused.relays).toEqual([]);
      expect(refused.errors.map((e) => e.errorCode)).toContain(401);
      // coturn's own account: the join's username got an allocation, the expired one never did.
      expect(allocatedUsernames()).toContain(server.username);
      expect(allocatedUsernames()).not.toContain(expired.username);
      console.log('expired credential refused:', JSON.stringify(refused.errors));
    } finally {
      signalling.close();
      await lectern.close();
    }
  }, 60_000);
});

/** The TURN entry each open PeerConnection of the page holds now (what its next gathering would use). */
async function heldTurnCredentials(page: Page): Promise<Array<{ urls: string; username: string; credential: string }>> {
  return page.evaluate(() =>
    (window as unknown as { __leakRecorder: { pcs: RTCPeerConnection[] } }).__leakRecorder.pcs
      .filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => {
        const server = pc.getConfiguration().iceServers!.find((s) => String(s.urls).startsWith('turn'))!;
        return { urls: ([] as string[]).concat(server.urls)[0]!, username: String(server.username), credential: String(server.credential) };
      }),
  );
}

describe('renewal before expiry', () => {
  it('the client swaps in a fresh credential before its first expires; coturn then refuses the old and accepts the new', async () => {
    const ttl = 60; // the shortest the schema allows; the client renews at 80 % (48 s)
    const lectern = await startLectern({ ice: { relayOnly: true, turn: { urls: [coturn.udpUrl], secret: coturn.secret, credentialTtlSeconds: ttl } } });
    try {
      const ada = await joinAs(lectern, 'turn-renewal', 'Ada');
      const bob = await joinAs(lectern, 'turn-renewal', 'Bob');
      await expectDecoding(ada, 'Bob');
      const first = await heldTurnCredentials(ada);
      expect(first).toHaveLength(2);
      const firstExpiry = Number(first[0]!.username.split(':')[0]);
      // Renewed on both transports, with a later expiry, before the first one expired.
      await expect
        .poll(async () => (await heldTurnCredentials(ada)).map((c) => Number(c.username.split(':')[0]) > firstExpiry), { timeout: 70_000, interval: 1000 })
        .toEqual([true, true]);
      expect(Date.now() / 1000).toBeLessThan(firstExpiry);
      const renewed = (await heldTurnCredentials(ada))[0]!;
      expect(renewed.username.split(':')[1]).toBe(first[0]!.username.split(':')[1]);
      // Past the first credential's expiry: coturn refuses it and accepts the renewed one.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (firstExpiry + 2) * 1000 - Date.now())));
      const probe = await (await browser.newContext()).newPage();
      const old = await gatherRelay(probe, first[0]!);
      expect(old.relays).toEqual([]);
      expect(old.errors.map((e) => e.errorCode)).toContain(401);
      expect((await gatherRelay(probe, renewed)).relays.length).toBeGreaterThan(0);
      await probe.context().close();
      // And the class carried on meanwhile: both still decode each other through the relay.
      await expectDecoding(ada, 'Bob');
      await expectDecoding(bob, 'Ada');
      expect(pageErrors).toEqual([]);
    } finally {
      await lectern.close();
    }
  }, 150_000);
});

describe('TURN over TLS needs a certificate browsers trust', () => {
  it('a Chromium without --ignore-certificate-errors gets no relay from a turns: server with a self-signed certificate', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const fresh = new TurnCredentials(coturn.secret, TTL_SECONDS).mint('tls-probe');
    // The same credential over plain TCP gets a relay: only the certificate differs.
    expect((await gatherRelay(page, { urls: coturn.tcpUrl, ...fresh })).relays.length).toBeGreaterThan(0);
    const overTls = await gatherRelay(page, { urls: coturn.tlsUrl, ...fresh });
    expect(overTls.relays).toEqual([]);
    // The browser hung up during the handshake: coturn never saw this credential over TLS.
    expect(coturn.log().some((line) => line.includes(`username=<${fresh.username}>`) && line.includes('method=TLS'))).toBe(false);
  }, 60_000);
});
