// HTTP surface: pages, health, and the security headers that keep the browser on this origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

let lectern: TestLectern;
beforeAll(async () => {
  lectern = await startLectern();
});
afterAll(async () => lectern.close());

describe('http', () => {
  it('reports health with worker, room and peer counts', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', workers: 1, rooms: 0, peers: 0 });
  });

  it('serves the room page for a valid room name and refuses an invalid one', async () => {
    const page = await lectern.app.inject({ method: 'GET', url: '/r/physics-101' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/assets/app.js');
    const bad = await lectern.app.inject({ method: 'GET', url: '/r/..%2F..%2Fetc' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('serves the client bundle from its own origin', async () => {
    const script = await lectern.app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect((await lectern.app.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).toBe(404);
  });

  it('sends a CSP that allows only its own origin, and no referrer', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/r/physics-101' });
    const csp = String(response.headers['content-security-policy']);
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['font-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    // No directive names another host.
    expect(csp).not.toMatch(/https?:\/\/|\*/);
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(String(response.headers['permissions-policy'])).toContain('camera=(self)');
  });

  it('serves the rooms\' media capabilities before joining, equal to what a join returns', async () => {
    const response = await fetch(`${lectern.url}/api/rtp-capabilities`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const body = (await response.json()) as { routerRtpCapabilities: { codecs: { mimeType: string }[] } };
    expect(body.routerRtpCapabilities.codecs.map((c) => c.mimeType)).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8']));
    // The page compares the two as JSON text, so key order matters as much as content.
    const client = await SignallingClient.connect(lectern.wsUrl);
    try {
      const joined = await client.ok('join', { room: 'caps-check', displayName: 'Ada' });
      expect(JSON.stringify(joined.routerRtpCapabilities)).toBe(JSON.stringify(body.routerRtpCapabilities));
    } finally {
      client.close();
    }
  });

  it('answers unknown routes with a JSON 404 and keeps running', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect((await lectern.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
