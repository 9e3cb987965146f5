// Layer one: the program refuses stacks that would leave the country, and the stack config is checked
// by the one config schema. Pure functions, no Pulumi runtime.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/index.js';
import { ResidencyError, countryOfLocation, decidePlacement, placementsIn } from '../../config/residency/index.js';
import { planDeployment } from '../../infra/plan.js';
import { stackConfig } from './support/harness.js';

const de = (deployment: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, string> => {
  const base = stackConfig('Pulumi.example-de.yaml');
  const merged = { ...JSON.parse(base['lectern:deployment']!), ...deployment };
  return { ...base, 'lectern:deployment': JSON.stringify(merged), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)])) };
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ResidencyError) return err.problems;
    throw err;
  }
  throw new Error('did not throw');
}

describe('placement catalogue', () => {
  it('derives placements from data: Denmark only a Local Zone, Canada two regions, Germany region first', () => {
    expect(placementsIn('DK').map((p) => p.kind)).toEqual(['local-zone']);
    expect(placementsIn('CA').map((p) => (p.kind === 'region' ? p.code : p.name))).toEqual(['ca-central-1', 'ca-west-1']);
    expect(placementsIn('DE').map((p) => (p.kind === 'region' ? p.code : p.name))).toEqual(['eu-central-1', 'eu-central-1-ham-1a']);
    expect(decidePlacement({ country: 'SE' }).providerRegion).toBe('eu-north-1');
    expect(countryOfLocation('eu-north-1-cph-1a')).toBe('DK');
    expect(countryOfLocation('eu-north-1-cph-1')).toBe('DK');
    expect(countryOfLocation('ca-west-1b')).toBe('CA');
  });

  it('a Local Zone keeps recordings and logs in the zone and reports the parent region', () => {
    const dk = decidePlacement({ country: 'DK', acceptParentRegionControlPlane: true });
    expect(dk).toMatchObject({ kind: 'local-zone', providerRegion: 'eu-north-1', dataStore: 'zone-volume', optInGroup: 'eu-north-1-cph-1' });
    expect(dk.locations.find((l) => l.what === 'recordings')).toMatchObject({ service: 'ebs', country: 'DK', inCountry: true });
  });

  it('refuses a Local Zone until the parent-region control plane is accepted', () => {
    expect(problemsOf(() => decidePlacement({ country: 'DK' }))[0]).toMatch(/eu-north-1 \(SE\).*acceptParentRegionControlPlane/);
  });

  it('refuses a country with no AWS presence and points to bring-your-own servers', () => {
    expect(problemsOf(() => decidePlacement({ country: 'NO' }))[0]).toMatch(/no region or Local Zone in NO.*bring your own servers/);
  });

  it('refuses a foreign placement and lists the in-country ones', () => {
    expect(problemsOf(() => decidePlacement({ country: 'DK', placement: 'eu-central-1' }))[0]).toBe(
      'eu-central-1 is in DE, not DK; placements in DK: eu-north-1-cph-1a (Local Zone, Copenhagen, parent eu-north-1)',
    );
    expect(problemsOf(() => decidePlacement({ country: 'CA', availabilityZone: 'ca-central-1c' }))[0]).toMatch(/not one of ca-central-1's zones/);
  });
});

describe('stack config through the one schema', () => {
  it('accepts the example stack', () => {
    expect(planDeployment(de()).placement.name).toBe('eu-central-1');
  });

  it('names unknown and misspelt keys', () => {
    expect(problemsOf(() => planDeployment(de({ contry: 'DE' })))).toContain('lectern:deployment.contry: unknown key (not part of the Lectern config schema)');
    expect(problemsOf(() => planDeployment(de({}, { 'lectern:medai': { workers: 2 } })))).toContain('lectern:medai: unknown key (not part of the Lectern config schema)');
    expect(problemsOf(() => planDeployment(de({}, { 'lectern:media': { workers: 2, rtcPortt: 1 } })))).toContain(
      'lectern:media.rtcPortt: unknown key (not part of the Lectern config schema)',
    );
  });

  it('names missing keys', () => {
    const base = de();
    const deployment = JSON.parse(base['lectern:deployment']!);
    delete deployment.domain;
    const problems = problemsOf(() => planDeployment({ ...base, 'lectern:deployment': JSON.stringify(deployment) }));
    expect(problems.some((p) => p.startsWith('lectern:deployment.domain'))).toBe(true);
    const { ['lectern:deployment']: _gone, ...noDeployment } = base;
    expect(problemsOf(() => planDeployment(noDeployment))[0]).toMatch(/^lectern:deployment: required/);
  });

  it('refuses keys the deployment sets itself, workers = 0, and clashing TURN ports', () => {
    expect(problemsOf(() => planDeployment(de({}, { 'lectern:media': { workers: 2, announcedAddress: '1.2.3.4' } })))).toEqual([
      'lectern:media.announcedAddress: set by the deployment itself; remove it from the stack',
    ]);
    expect(problemsOf(() => planDeployment(de({}, { 'lectern:media': { workers: 0 } })))[0]).toMatch(/media.workers: must be set explicitly/);
    // The deployment's own coturn and its secret make the TURN section; a stack cannot point it elsewhere.
    expect(problemsOf(() => planDeployment(de({}, { 'lectern:ice': { turn: { urls: ['turn:elsewhere.example:3478'], secret: 'x'.repeat(32) } } })))).toEqual([
      'lectern:ice.turn: set by the deployment itself; remove it from the stack',
    ]);
    expect(problemsOf(() => planDeployment(de({ turn: { username: 'lectern' } })))[0]).toMatch(/deployment.turn.username: unknown key/);
    expect(problemsOf(() => planDeployment(de({ turn: { tlsPort: 443 } })))[0]).toMatch(/turn.tlsPort: 443 is used by HTTPS/);
  });

  it('refuses a stack that leaves default providers enabled, and a placement abroad', () => {
    const { ['pulumi:disable-default-providers']: _gone, ...enabled } = de();
    expect(problemsOf(() => planDeployment(enabled))[0]).toMatch(/disable-default-providers/);
    expect(problemsOf(() => planDeployment(de({ placement: 'eu-west-1' })))[0]).toMatch(/eu-west-1 is in IE, not DE/);
  });

  it('refuses an SSH CIDR that is not a CIDR, and a CloudWatch retention CloudWatch does not accept', () => {
    expect(problemsOf(() => planDeployment(de({ adminSshCidrs: ['0.0.0.0'] }))).some((p) => p.startsWith('lectern:deployment.adminSshCidrs.0'))).toBe(true);
    expect(problemsOf(() => planDeployment(de({ storage: { logRetentionDays: 31 } })))[0]).toMatch(/CloudWatch accepts only/);
  });
});
