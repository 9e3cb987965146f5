// `lectern audit` lists each registered LMS: its issuer (the launch) and its key set host, each as a
// flow with the place it is derived to be; a foreign or unplaceable LMS is reported, never assumed fine.
import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import { completeFixture } from '../audit/helpers/fixtures.js';

function withPlatforms(platforms: Array<Record<string, unknown>>) {
  const inputs = completeFixture('clean');
  const raw = structuredClone(inputs.config!.raw) as Record<string, unknown>;
  inputs.config = parseAuditConfig({ ...raw, lti: { platforms } }, 'clean/lectern.json + lti');
  return audit(inputs);
}

const moodle = {
  issuer: 'https://moodle.example-uni.se',
  clientId: 'Xy12',
  deploymentIds: ['1'],
  jwksUrl: 'https://moodle.example-uni.se/mod/lti/certs.php',
  authLoginUrl: 'https://moodle.example-uni.se/mod/lti/auth.php',
  tokenUrl: 'https://moodle.example-uni.se/mod/lti/token.php',
};
const canvas = {
  issuer: 'https://canvas.instructure.com',
  clientId: '10000000000001',
  deploymentIds: ['12:abcd'],
  jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
  authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
  tokenUrl: 'https://sso.canvaslms.com/login/oauth2/token',
};

describe('LTI platforms in the audit', () => {
  it('lists the launch and the key set of each platform as flows', () => {
    const report = withPlatforms([moodle, canvas]);
    const lti = report.model.flows.filter((f) => f.label.startsWith('LMS '));
    expect(lti.map((f) => f.label)).toEqual([
      'LMS launch (LTI moodle.example-uni.se)',
      'LMS keys (LTI JWKS moodle.example-uni.se)',
      'LMS launch (LTI canvas.instructure.com)',
      'LMS keys (LTI JWKS sso.canvaslms.com)',
    ]);
    const own = lti[0]!;
    expect(own).toMatchObject({ kind: 'sign-in', personalData: true, location: { scope: 'unknown', country: null } });
    expect(own.location.basis).toContain('lti.platforms.0.issuer');
    expect(lti[3]!.location).toMatchObject({ scope: 'third-party', country: null });
  });

  it('reports a platform outside the deployment’s own domain (location unknown is high, default deny); none when no platform is registered', () => {
    const foreign = withPlatforms([canvas]).findings.filter((f) => f.flowId?.includes('LTI'));
    expect(foreign.map((f) => [f.rule, f.severity, f.title])).toEqual([
      ['location-unknown', 'high', 'Cannot tell where LMS launch (LTI canvas.instructure.com) is'],
      ['location-unknown', 'high', 'Cannot tell where LMS keys (LTI JWKS sso.canvaslms.com) is'],
    ]);
    expect(withPlatforms([]).model.flows.filter((f) => f.label.startsWith('LMS '))).toEqual([]);
  });
});
