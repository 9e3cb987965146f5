// TURN credentials: how long the one a participant gets keeps opening relays, and whether any
// browser is handed a long-lived shared TURN password instead (anyone who joined once could relay
// through the university's coturn for as long as that password lives).
import { TurnRelaySchema } from '../../config/schema.js';
import type { AuditInputs, Finding, Severity } from '../model/types.js';

// A lecture block, breaks included: a credential living longer than this outlives its class.
const LECTURE_SECONDS = 4 * 3600;
// Longer than a teaching day: a leaked credential is a relay for the night.
const DAY_SECONDS = 12 * 3600;
const DEFAULT_TTL_SECONDS = TurnRelaySchema.properties.credentialTtlSeconds.default as number;

/** The lifetime of minted TURN credentials, and static TURN passwords as findings. */
export function checkTurnCredentials(inputs: AuditInputs): Finding[] {
  return [...lifetimes(inputs), ...staticPasswords(inputs)];
}

function lifetimes(inputs: AuditInputs): Finding[] {
  const found: Array<{ seconds: number; where: string; basis: string }> = [];
  const config = inputs.config;
  if (config?.config.ice.turn) {
    found.push({ seconds: config.config.ice.turn.credentialTtlSeconds, where: `${config.source} ice.turn.credentialTtlSeconds`, basis: 'config' });
  } else if (config?.config.deployment) {
    // A deployment writes ice.turn itself (infra/server-config.ts) from deployment.turn.
    const set = config.config.deployment.turn.credentialTtlSeconds;
    found.push({ seconds: set ?? DEFAULT_TTL_SECONDS, where: `${config.source} deployment.turn.credentialTtlSeconds`, basis: set === undefined ? 'deployment (server default)' : 'deployment' });
  }
  const runtime = inputs.runtime;
  if (runtime?.runtime.ice.turn) {
    found.push({ seconds: runtime.runtime.ice.turn.credentialTtlSeconds, where: `${runtime.source} ice.turn.credentialTtlSeconds`, basis: 'the live server' });
  }
  return found.map(({ seconds, where, basis }) => {
    const severity: Severity = seconds > DAY_SECONDS ? 'medium' : seconds > LECTURE_SECONDS ? 'low' : 'info';
    const why =
      severity === 'info'
        ? 'coturn refuses it after that; the client renews it in time'
        : `longer than ${severity === 'medium' ? 'a teaching day' : 'a lecture block'}: a copied credential opens relays for ${duration(seconds)}; shorten ice.turn.credentialTtlSeconds (the client renews)`;
    return {
      rule: 'turn-credential-lifetime',
      severity,
      title: `Each participant's TURN credential lasts ${duration(seconds)}`,
      evidence: `${seconds} s (${basis}); ${why}`,
      where,
    };
  });
}

// Default deny: every turn: entry outside ice.turn is reported. With a password it is shared and never
// expires; without one the relay is either open to anyone (coturn no-auth) or unusable.
function staticPasswords(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  const check = (urls: string[], hasPassword: boolean, where: string): void => {
    const turn = urls.filter((u) => /^turns?:/i.test(u));
    if (turn.length === 0) return;
    findings.push({
      rule: 'turn-static-credential',
      severity: 'high',
      title: hasPassword ? 'Every browser is handed the same long-lived TURN password' : 'A TURN relay is handed out without a credential',
      evidence: `${turn.join(', ')}: ${
        hasPassword
          ? 'a shared password that never expires; anyone who joined once can use the relay until it is changed'
          : 'either the relay lets anyone in (coturn no-auth) or browsers cannot use it'
      }. Use ice.turn (coturn use-auth-secret): a credential per participant that expires`,
      where,
    });
  };
  (inputs.config?.config.ice.servers ?? []).forEach((s, i) => check(s.urls, s.credential !== undefined && s.credential !== '', `${inputs.config!.source} ice.servers[${i}]`));
  (inputs.runtime?.runtime.ice.servers ?? []).forEach((s, i) => check(s.urls, s.hasCredential, `${inputs.runtime!.source} ice.servers[${i}]`));
  return findings;
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
