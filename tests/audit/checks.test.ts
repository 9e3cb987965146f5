import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { CHECKS } from '../../audit/checks/index.js';
import { parseCsp } from '../../audit/checks/web.js';
import { organisationDomain } from '../../audit/model/buildModel.js';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import { scanText } from '../../audit/sources/clientBundle.js';
import type { AuditInputs } from '../../audit/model/types.js';
import { completeFixture, defectFixture } from './helpers/fixtures.js';

const rulesOf = (inputs: AuditInputs): string[] => audit(inputs).findings.map((f) => f.rule);
const clean = audit(completeFixture('clean'));

// Each defect fixture, the rule that must fire on it, and the severity it must reach.
const DEFECTS: Array<[fixture: string, rule: string, severity: string]> = [
  ['public-stun', 'ice-server-not-own-turn', 'high'],
  ['static-turn-password', 'turn-static-credential', 'high'],
  ['long-turn-credentials', 'turn-credential-lifetime', 'medium'],
  ['bucket-abroad', 'flow-outside-country', 'high'],
  ['cdn-script', 'third-party-host', 'high'],
  ['cdn-font', 'third-party-host', 'high'],
  ['analytics-in-code', 'third-party-host', 'high'],
  ['global-services', 'metadata-outside-country', 'high'],
  ['local-zone', 'local-zone-parent-region', 'low'],
  ['csp-missing', 'csp-missing', 'high'],
  ['csp-weak', 'csp-weak', 'high'],
  ['tls-off', 'tls-off', 'high'],
  ['open-ports', 'ports-beyond-need', 'high'],
  ['recordings-forever', 'recordings-no-retention', 'high'],
  ['recordings-forever', 'recordings-unencrypted', 'high'],
  ['logs-full-ip', 'logs-no-retention', 'medium'],
  ['logs-full-ip', 'logs-full-ip', 'medium'],
  ['default-secret', 'default-secret', 'critical'],
  ['replication', 'cross-region-copy', 'high'],
  ['placement-abroad', 'placement-refused', 'high'],
  // Pulumi state abroad is high (the pack's world refuses it too): it holds every input in plain text.
  ['pulumi-cloud-state', 'flow-outside-country', 'high'],
  ['foreign-idp', 'third-party-host', 'high'],
];

describe('the clean deployment', () => {
  it('has no finding above medium, and only the honest ones at medium/low', () => {
    const serious = clean.findings.filter((f) => ['medium', 'high', 'critical'].includes(f.severity));
    expect(serious.map((f) => `${f.rule}: ${f.title}`)).toEqual(['metadata-outside-country: IAM metadata is held outside SE']);
    expect(clean.findings.filter((f) => f.severity === 'low').map((f) => f.title)).toEqual([
      'Egress tcp/443 to 0.0.0.0/0 is wider than its destinations',
      'Egress tcp/80 to 0.0.0.0/0 is wider than its destinations',
      'TLS certificates (ACME) is in US, not SE',
    ]);
  });

  it('derives every flow kind, in Sweden, from regions and zones', () => {
    const kinds = new Set(clean.model.flows.map((f) => f.kind));
    for (const kind of ['media', 'signalling', 'turn', 'recordings', 'chat', 'logs', 'metrics', 'audit-log', 'pulumi-state', 'dns', 'tls-issuance', 'software-updates', 'control-plane']) {
      expect(kinds, kind).toContain(kind);
    }
    const media = clean.model.flows.find((f) => f.kind === 'media')!;
    expect(media.location).toMatchObject({ country: 'SE', scope: 'zone', place: 'eu-north-1a (Stockholm)' });
    expect(media.location.basis).toContain('availabilityZone of instance lectern-sfu');
    // The runtime and the stack describe the same bucket: one flow, seen in both.
    const recordings = clean.model.flows.filter((f) => f.kind === 'recordings');
    expect(recordings).toHaveLength(1);
    expect(recordings[0]!.seenIn).toHaveLength(2);
  });
});

describe.each(DEFECTS)('defect %s', (fixture, rule, severity) => {
  it(`fires ${rule} at ${severity}`, () => {
    const findings = audit(defectFixture(fixture)).findings.filter((f) => f.rule === rule);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.map((f) => f.severity)).toContain(severity);
  });
  it(`${rule} stays quiet on the clean deployment`, () => {
    const quiet = clean.findings.filter((f) => f.rule === rule && f.severity === severity);
    expect(quiet).toEqual([]);
  });
});

describe('the leaky deployment', () => {
  it('names each leak: public STUN, the bucket in Germany, the CDN script', () => {
    const report = audit(completeFixture('leaky'));
    const high = report.findings.filter((f) => f.severity === 'high');
    expect(high.some((f) => f.rule === 'ice-server-not-own-turn' && f.title.includes('stun.l.google.com'))).toBe(true);
    expect(high.some((f) => f.rule === 'flow-outside-country' && f.title.includes('Recordings') && f.title.includes('DE'))).toBe(true);
    expect(high.some((f) => f.rule === 'third-party-host' && f.title.includes('cdn.jsdelivr.net'))).toBe(true);
    const map = report.model.flows.filter((f) => f.location.country !== 'SE' && f.active).map((f) => f.label);
    expect(map).toContain('ICE server stun.l.google.com');
  });
});

describe('individual checks', () => {
  it('country-undeclared: high for a public server without a country, info for a loopback-only Lectern', () => {
    const exposed = { config: parseAuditConfig({ http: { host: '0.0.0.0' } }, 'exposed.json') };
    expect(audit(exposed).findings.find((f) => f.rule === 'country-undeclared')?.severity).toBe('high');
    const local = { config: parseAuditConfig({}, 'local.json') };
    expect(audit(local).findings.find((f) => f.rule === 'country-undeclared')?.severity).toBe('info');
    expect(audit(local).findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('tls-off fires for a non-loopback server without TLS and stays quiet on loopback', () => {
    expect(rulesOf({ config: parseAuditConfig({ http: { host: '0.0.0.0' } }, 'x') })).toContain('tls-off');
    expect(rulesOf({ config: parseAuditConfig({}, 'x') })).not.toContain('tls-off');
  });

  it('config-invalid reports a config the server would refuse', () => {
    const findings = CHECKS.configValid!({ configProblems: { source: 'bad.json', problems: ['http.prot: unknown key'] } }, audit({ config: parseAuditConfig({}, 'x') }).model);
    expect(findings).toEqual([expect.objectContaining({ rule: 'config-invalid', severity: 'high', evidence: 'http.prot: unknown key' })]);
  });

  it('weak-secret fires on a short credential, not on a long random one', () => {
    const short = { config: parseAuditConfig({ ice: { servers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'hunter22' }] } }, 'x') };
    expect(rulesOf(short)).toContain('weak-secret');
    expect(rulesOf(completeFixture('clean'))).not.toContain('weak-secret');
  });

  it('secret-not-encrypted fires on a stack credential that is not a Pulumi secret', () => {
    const stack = { 'lectern:turnCredential': { value: 'x7Qp2vLm9TzR4wYk8sN3bJ6hC1dF5gA0', secret: false }, 'lectern:http': { objectValue: { port: 3000 }, value: '{"port":3000}', secret: false } };
    expect(rulesOf({ config: parseAuditConfig(stack, 'pulumi-config.json') })).toContain('secret-not-encrypted');
    const safe = { ...stack, 'lectern:turnCredential': { secret: true } };
    expect(rulesOf({ config: parseAuditConfig(safe, 'pulumi-config.json') })).not.toContain('secret-not-encrypted');
  });

  it('default-provider fires for AWS resources without an explicit provider', () => {
    const inputs = completeFixture('clean');
    const unpinned = structuredClone(inputs);
    unpinned.stack!.export.resources.find((r) => r.name === 'lectern-logs')!.providerUrn = undefined;
    expect(rulesOf(unpinned)).toContain('default-provider');
    expect(rulesOf(inputs)).not.toContain('default-provider');
  });

  it('volume-unencrypted fires on an unencrypted root volume', () => {
    const inputs = completeFixture('clean');
    const instance = inputs.stack!.export.resources.find((r) => r.type === 'aws:ec2/instance:Instance')!;
    instance.inputs.rootBlockDevice = { encrypted: false };
    instance.outputs.rootBlockDevice = { encrypted: false };
    expect(rulesOf(inputs)).toContain('volume-unencrypted');
    expect(rulesOf(completeFixture('clean'))).not.toContain('volume-unencrypted');
  });

  it('location-unknown fires when the host location cannot be derived', () => {
    const inputs = { config: parseAuditConfig({ http: { host: '0.0.0.0', publicUrl: 'https://class.uni.example' } }, 'x') };
    expect(audit(inputs).findings.filter((f) => f.rule === 'location-unknown' && f.severity === 'high').length).toBeGreaterThan(0);
  });
});

describe('helpers', () => {
  it('scanText ignores RTP header extension identifiers but not other URLs on the same hosts', () => {
    const refs = scanText(
      [
        'const e="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";',
        'const d="https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";',
        'fetch("http://www.webrtc.org/tracker.js")',
      ].join('\n'),
      'a.js',
    );
    expect(refs.map((r) => r.url)).toEqual(['http://www.webrtc.org/tracker.js']);
  });

  it('scanText finds markup, CSS and code URLs and ignores namespaces and legal comments', () => {
    const refs = scanText(['/*! lib https://github.com/x/y */', 'const ns="http://www.w3.org/2000/svg";', 'fetch("https://api.example.net/x")', "a.src='//cdn.example.org/lib.js'", 'new RTCPeerConnection({iceServers:[{urls:"stun:stun.example.com:3478"}]})'].join('\n'), 'a.js');
    expect(refs.map((r) => [r.host, r.context])).toEqual([
      ['github.com', 'comment'],
      ['api.example.net', 'code'],
      ['cdn.example.org', 'code'],
      ['stun.example.com', 'code'],
    ]);
  });

  it('parseCsp reads directives', () => {
    expect(parseCsp("default-src 'none'; connect-src 'self' wss://x.y").get('connect-src')).toEqual(["'self'", 'wss://x.y']);
  });

  it('organisationDomain keeps shared second levels apart', () => {
    expect(organisationDomain('class.example-uni.se')).toBe('example-uni.se');
    expect(organisationDomain('class.ox.ac.uk')).toBe('ox.ac.uk');
    expect(organisationDomain('lectern.ac.uk')).toBe('lectern.ac.uk');
    expect(organisationDomain('uni.se')).toBe('uni.se');
  });
});
