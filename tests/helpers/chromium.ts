// Debian's Chromium driven by playwright-core (never a downloaded browser), with fake camera and
// microphone. Tests that use it run inside a loopback-only network namespace (scripts/in-netns.sh).
// playwright-core gives every launch a fresh, empty profile directory of its own.
import { networkInterfaces } from 'node:os';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Start a headless Chromium with fake media devices; `extraArgs` are added to the usual flags. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...extraArgs,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Network interfaces other than loopback that are visible to this process. */
export function nonLoopbackInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((a) => !a.internal))
    .map(([name]) => name);
}
