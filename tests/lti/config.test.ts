// The LTI config section, registrations, tool keys and role mapping, without an LMS.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/index.js';
import { Authenticator } from '../../server/auth/index.js';
import { LTI_KEY_FILES, LtiTool, roleFromLaunch } from '../../server/lti/index.js';
import { Platforms } from '../../server/lti/Platforms.js';
import { ToolKeys } from '../../server/lti/ToolKeys.js';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';
const platform = {
  issuer: 'https://moodle.example.edu',
  clientId: 'abc',
  deploymentIds: ['1'],
  jwksUrl: 'https://moodle.example.edu/mod/lti/certs.php',
  authLoginUrl: 'https://moodle.example.edu/mod/lti/auth.php',
  tokenUrl: 'https://moodle.example.edu/mod/lti/token.php',
};
const log = pino({ level: 'silent' });

function problems(input: Record<string, unknown>): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the lti config section', () => {
  it('is off by default and closed: unknown keys and missing fields are named', () => {
    expect(parseConfig({}).lti.platforms).toEqual([]);
    expect(problems({ lti: { platform: [] } })).toContain('lti.platform: unknown key (not part of the Lectern config schema)');
    expect(problems({ lti: { platforms: [{ ...platform, secret: 'x' }] } })).toContain('lti.platforms.0.secret: unknown key (not part of the Lectern config schema)');
    const { deploymentIds: _, ...noDeployments } = platform;
    expect(problems({ lti: { platforms: [noDeployments] } }).join('\n')).toContain('lti.platforms.0');
    expect(problems({ lti: { platforms: [{ ...platform, deploymentIds: [] }] } }).join('\n')).toContain('lti.platforms.0.deploymentIds');
  });

  it('refuses at start-up a registration URL that is plain http off loopback, and a duplicate', () => {
    expect(() => Platforms.create([{ ...platform, jwksUrl: 'http://moodle.example.edu/mod/lti/certs.php' }])).toThrow(
      'lti.platforms.0.jwksUrl must be https (http is allowed only on loopback)',
    );
    expect(() => Platforms.create([{ ...platform, authLoginUrl: 'https://user:pw@moodle.example.edu/auth' }])).toThrow('must not carry credentials');
    expect(() => Platforms.create([platform, platform])).toThrow('registered twice');
    const local = Platforms.create([{ ...platform, issuer: 'http://localhost:8080', jwksUrl: 'http://127.0.0.1:8080/jwks', authLoginUrl: 'http://localhost:8080/auth' }]);
    expect(local.frameOrigins).toEqual(['http://localhost:8080']);
  });

  it('needs Lectern to sign room links, within the longest lifetime a link may have', async () => {
    const trustedOnly = parseConfig({
      lti: { platforms: [platform], keyDir: mkdtempSync(join(tmpdir(), 'lectern-lti-')) },
      auth: { tokens: { trustedKeys: [{ alg: 'EdDSA', publicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----', issuer: 'uni', audience: 'lectern' }] } },
    });
    const auth = await Authenticator.create(trustedOnly.auth, log);
    await expect(LtiTool.create(trustedOnly, auth, { record: () => undefined }, log)).rejects.toThrow('set auth.tokenSecret');

    const tooLong = parseConfig({ lti: { platforms: [platform], launchTtlSeconds: 999_999_999 } });
    await expect(LtiTool.create(tooLong, await Authenticator.create(tooLong.auth, log), { record: () => undefined }, log)).rejects.toThrow('exceeds auth.tokens.maxTtlSeconds');
  });
});

describe('the tool keys', () => {
  it('are made once (mode 0600) and the same after a restart, so a course keeps its room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-lti-'));
    const first = await ToolKeys.load(dir);
    const second = await ToolKeys.load(dir);
    expect(second.publicJwk).toEqual(first.publicJwk);
    expect(second.derive('room-name').equals(first.derive('room-name'))).toBe(true);
    expect(first.derive('room-name').equals(first.derive('state-cookie'))).toBe(false);
    for (const file of Object.values(LTI_KEY_FILES)) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);

    const config = parseConfig({ lti: { platforms: [platform], keyDir: dir } });
    const auth = await Authenticator.create(config.auth, log);
    const tool = (await LtiTool.create(config, auth, { record: () => undefined }, log))!;
    const again = (await LtiTool.create(config, auth, { record: () => undefined }, log))!;
    const launch = { issuer: platform.issuer, contextId: 'course-1', resourceLinkId: 'rl-1' };
    expect(again.roomFor(launch)).toBe(tool.roomFor(launch));
    expect(tool.roomFor({ ...launch, resourceLinkId: 'rl-2' })).not.toBe(tool.roomFor(launch));
    expect(tool.roomFor({ ...launch, issuer: 'https://other.example.edu' })).not.toBe(tool.roomFor(launch));
    // Another deployment of Lectern (another key) gives the same course another, unguessable room.
    const elsewhere = (await LtiTool.create(parseConfig({ lti: { platforms: [platform], keyDir: mkdtempSync(join(tmpdir(), 'lectern-lti-')) } }), auth, { record: () => undefined }, log))!;
    expect(elsewhere.roomFor(launch)).not.toBe(tool.roomFor(launch));
  });
});

describe('LTI roles to Lectern roles', () => {
  const mapping = parseConfig({}).lti.roles;
  it.each([
    [[`${LIS}membership#Instructor`], 'instructor'],
    [[`${LIS}membership#TeachingAssistant`], 'instructor'],
    [[`${LIS}membership/Instructor#TeachingAssistant`], 'instructor'],
    [[`${LIS}membership#Learner`], 'student'],
    [[`${LIS}membership#Learner`, `${LIS}membership#Instructor`], 'instructor'],
    // A lecturer enrolled as a learner in a colleague's course is a student there.
    [[`${LIS}membership#Learner`, `${LIS}institution/person#Instructor`], 'student'],
    // Institution roles count only when the launch carries no course role.
    [[`${LIS}institution/person#Instructor`], 'instructor'],
    [[`${LIS}institution/person#Student`], 'student'],
    [[`${LIS}membership#Mentor`], 'guest'],
    [[], 'guest'],
    [['Instructor'], 'guest'],
  ] as const)('%j -> %s', (roles, role) => {
    expect(roleFromLaunch(roles, mapping)).toBe(role);
  });

  it('follows the config: other URIs, and refusing the rest', () => {
    const custom = parseConfig({ lti: { roles: { instructor: ['urn:x:teacher'], student: [], otherwise: 'refuse' } } }).lti.roles;
    expect(roleFromLaunch(['urn:x:teacher'], custom)).toBe('instructor');
    expect(roleFromLaunch([`${LIS}membership#Learner`], custom)).toBeUndefined();
  });
});
