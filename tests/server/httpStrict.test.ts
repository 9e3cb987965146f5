// Every HTTP body and query is validated strictly, and every HTTP error has one body shape
// (issue 12, defects 8 and 9): unknown keys and wrong types are a 400 naming the field, never
// stripped or coerced; 404s, parser errors and refusals look the same; source maps stay private.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';

const ADMIN = 'http-strict-admin-token';
let lectern: TestLectern;
beforeAll(async () => {
  lectern = await startLectern({
    auth: { tokenSecret: 'http-strict-test-secret-at-least-32-bytes', adminTokens: [createHash('sha256').update(ADMIN).digest('hex')] },
  });
});
afterAll(async () => lectern.close());

const issue = (payload: unknown, headers: Record<string, string> = {}) =>
  lectern.app.inject({ method: 'POST', url: '/admin/tokens', headers: { authorization: `Bearer ${ADMIN}`, ...headers }, payload: payload as string });

const errorShape = { error: { code: expect.any(String), message: expect.any(String) } };

describe('strict HTTP validation', () => {
  it('refuses an unknown field instead of dropping it (a typo no longer issues a shared link)', async () => {
    const response = await issue({ room: 'physics-101', role: 'student', subjet: 'ann@uni.example' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: { code: 'invalid_request', message: 'body.subjet: unknown field' } });
    const ttl = await issue({ room: 'physics-101', role: 'student', ttl: 120 });
    expect(ttl.json()).toEqual({ error: { code: 'invalid_request', message: 'body.ttl: unknown field' } });
  });

  it('refuses a wrong type instead of coercing it', async () => {
    const response = await issue({ room: 'physics-101', role: 'student', ttlSeconds: '120' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/^body\.ttlSeconds: /);
    const query = await lectern.app.inject({ method: 'GET', url: '/auth/session?room=physics-101&extra=1' });
    expect(query.statusCode).toBe(400);
    expect(query.json()).toEqual({ error: { code: 'invalid_request', message: 'querystring.extra: unknown field' } });
  });

  it('still issues a link for a correct request', async () => {
    const response = await issue({ room: 'physics-101', role: 'student', subject: 'ann@uni.example', ttlSeconds: 120 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ token: expect.any(String), url: expect.stringContaining('/r/physics-101#token=') });
  });
});

describe('one error body for every HTTP error', () => {
  it('404 for an unknown path', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/no/such/thing' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'not_found', message: 'no such page: GET /no/such/thing' } });
  });

  it('a body the parser cannot read, and a media type it does not take', async () => {
    const broken = await issue('{"room":', { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toEqual(errorShape);
    expect(broken.json().error.code).toBe('invalid_request');
    const xml = await issue('<room/>', { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('a refused admin request is unauthorized, a page from another origin forbidden', async () => {
    const anonymous = await lectern.app.inject({ method: 'POST', url: '/admin/tokens', payload: { room: 'physics-101', role: 'student' } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
    // The origin check runs before the upgrade, on the plain GET.
    const foreign = await lectern.app.inject({ method: 'GET', url: '/ws', headers: { origin: 'http://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
  });
});

describe('source maps', () => {
  it('are not served unless configured', async () => {
    expect((await lectern.app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode).toBe(200);
    const map = await lectern.app.inject({ method: 'GET', url: '/assets/app.js.map' });
    expect(map.statusCode).toBe(404);
    expect(map.json()).toMatchObject({ error: { code: 'not_found' } });
    const dev = await startLectern({ http: { sourceMaps: true } });
    try {
      expect((await dev.app.inject({ method: 'GET', url: '/assets/app.js.map' })).statusCode).toBe(200);
    } finally {
      await dev.close();
    }
  });
});
