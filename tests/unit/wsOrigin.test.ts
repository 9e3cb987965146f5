import { describe, expect, it } from 'vitest';
import { allowedWebSocketOrigin } from '../../server/routes/wsOrigin.js';

describe('which pages may open the signalling socket', () => {
  it('lets programs without an Origin and pages from the same host in', () => {
    expect(allowedWebSocketOrigin(undefined, '127.0.0.1:3000', undefined)).toBe(true);
    expect(allowedWebSocketOrigin('http://127.0.0.1:3000', '127.0.0.1:3000', undefined)).toBe(true);
    expect(allowedWebSocketOrigin('http://LOCALHOST:3000', 'localhost:3000', undefined)).toBe(true);
    expect(allowedWebSocketOrigin('https://class.example.edu', 'internal:3000', 'https://class.example.edu')).toBe(true);
  });

  it('keeps pages from other origins out, including another port of the same host', () => {
    expect(allowedWebSocketOrigin('http://evil.example', '127.0.0.1:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('http://127.0.0.1:8080', '127.0.0.1:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('https://wiki.example.edu', 'class.example.edu', 'https://class.example.edu')).toBe(false);
    expect(allowedWebSocketOrigin('null', '127.0.0.1:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('file://127.0.0.1:3000', '127.0.0.1:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('http://127.0.0.1:3000', undefined, undefined)).toBe(false);
  });

  it('refuses a DNS-rebinding handshake (Host equal to Origin, a name that is not loopback) without a public URL', () => {
    expect(allowedWebSocketOrigin('http://attacker.example:3000', 'attacker.example:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('http://127.0.0.1.nip.io:3000', '127.0.0.1.nip.io:3000', undefined)).toBe(false);
    expect(allowedWebSocketOrigin('http://[::1]:3000', '[::1]:3000', undefined)).toBe(true);
    expect(allowedWebSocketOrigin('http://127.0.0.2:3000', '127.0.0.2:3000', undefined)).toBe(true);
  });

  it('with a public URL, accepts only that origin', () => {
    expect(allowedWebSocketOrigin('http://localhost:3000', 'localhost:3000', 'https://class.example.edu')).toBe(false);
    expect(allowedWebSocketOrigin('https://class.example.edu', 'class.example.edu', 'https://class.example.edu')).toBe(true);
  });
});
