// Issue 13 item 2, the cases the sweep does not spell out: dynamic destinations, tunnels in the
// deployment's own config, the allow-list staying narrow, and where a finding points.
import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import { scanFile, type BundleScan } from '../../audit/sources/clientBundle.js';

const bundleOf = (text: string, file = 'app.js', kind: 'code' | 'markup' | 'css' = 'code'): BundleScan => ({ dir: 'client', files: [file], ...scanFile(text, file, kind) });
const highs = (bundle: BundleScan, config?: unknown): string[] =>
  audit({ bundle, ...(config ? { config: parseAuditConfig(config, 'lectern.json') } : {}) })
    .findings.filter((f) => f.severity === 'high')
    .map((f) => `${f.rule}: ${f.title}`);

describe('client code destinations', () => {
  it('a network call whose destination cannot be worked out is high; one built from location is not', () => {
    expect(highs(bundleOf('export function go(u){return fetch(u)}'))).toEqual(['client-destination-unknown: Client calls fetch() with a destination that cannot be worked out statically']);
    expect(highs(bundleOf('export function go(h){return new WebSocket("wss://"+h+"/ws")}'))).toHaveLength(1);
    expect(highs(bundleOf('export function go(){const u=new URL("/ws",location.href);u.protocol="wss:";return new WebSocket(u)}'))).toEqual([]);
    expect(highs(bundleOf('export const ws=()=>new WebSocket(`wss://${location.host}/ws`);fetch("/api/x")'))).toEqual([]);
    // Writing the host of a URL object makes it unknown again.
    expect(highs(bundleOf('export function go(h){const u=new URL("/ws",location.href);u.host=h;return new WebSocket(u)}'))).toHaveLength(1);
  });

  it('a blob: URL made with URL.createObjectURL is the page\'s own (a CSV download), a foreign arm beside it is not', () => {
    expect(highs(bundleOf('export function save(b){const u=URL.createObjectURL(b);const a=document.createElement("a");a.href=u;a.click()}'))).toEqual([]);
    expect(highs(bundleOf('export function save(b,x){const a=document.createElement("a");a.href=x?URL.createObjectURL(b):"https://evil.example/";a.click()}'))).toHaveLength(1);
  });

  it("a static suffix after the page's own host is a foreign domain", () => {
    expect(highs(bundleOf('fetch("https://"+location.host+".evil.example/x")'))).toEqual(['third-party-host: Client references evil.example']);
  });

  it('RTP header extension ids and namespaces pass only as whole values outside network calls', () => {
    expect(highs(bundleOf('export const e={uri:"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"};document.createElementNS("http://www.w3.org/2000/svg","svg")'))).toEqual([]);
    expect(highs(bundleOf('fetch("http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")'))).toEqual(['third-party-host: Client references www.webrtc.org']);
    expect(highs(bundleOf('export const t="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time?track=1"'))).toHaveLength(1);
    expect(highs(bundleOf('<a href="http://www.w3.org/2000/svg">x</a>', 'index.html', 'markup'))).toEqual(['third-party-host: Client loads www.w3.org']);
  });

  it('a URL in a comment is high and points at its line', () => {
    const report = audit({ bundle: bundleOf('export const a=1;\n\n/* see\n   https://cdn.evil.example/lib.js */\n') });
    expect(report.findings.find((f) => f.rule === 'third-party-host')).toMatchObject({ severity: 'high', title: 'Client names cdn.evil.example', where: 'client/app.js:4' });
  });

  it('a public URL on a tunnelling service is a finding, and names under it are not the deployment\'s own', () => {
    const config = { http: { host: '0.0.0.0', publicUrl: 'https://lectern-7f3a.ngrok-free.app', trustProxy: true } };
    const rules = highs(bundleOf('fetch("https://other-user.ngrok-free.app/x")'), config);
    expect(rules).toContain("tunnel-host: Public URL is on ngrok-free.app (ngrok tunnel), not a host of the deployment's own");
    expect(rules).toContain('third-party-host: Client references other-user.ngrok-free.app (ngrok tunnel)');
  });

  it("the participant's loopback is not the deployment's own (unless the deployment is served there)", () => {
    expect(highs(bundleOf('fetch("http://127.0.0.1:9222/json")'))).toEqual(["third-party-host: Client references 127.0.0.1 (the participant's own machine)"]);
    expect(highs(bundleOf('fetch("http://127.0.0.1:3000/api")'), { http: { publicUrl: 'http://127.0.0.1:3000' } })).toEqual([]);
  });

  it('a file that does not parse is reported and still read as text', () => {
    const report = audit({ bundle: bundleOf('this is not javascript ( "https://evil.example/x"') });
    expect(report.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['client-file-unreadable', 'third-party-host']));
  });
});
