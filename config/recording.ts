// Recording a class: off until someone with the `record` permission starts it, and then only the
// participants who agreed. What "agreed" means is the university's rule, so it is config.
import { Type, type Static } from '@sinclair/typebox';

export const RecordingConsentPolicySchema = Type.Union([Type.Literal('ask'), Type.Literal('inform')]);
/** `ask`: nobody is recorded until they consent. `inform`: everyone is told and recorded unless they decline. */
export type RecordingConsentPolicy = Static<typeof RecordingConsentPolicySchema>;

export const RecordingSchema = Type.Object(
  {
    /**
     * Whether a participant must say yes (`ask`, the default) or is recorded once told, unless they
     * decline (`inform`, only where the university's rules allow recording on notice). Either way
     * everyone is told at once and a decline is honoured at any time.
     */
    consent: Type.Union([Type.Literal('ask'), Type.Literal('inform')], { default: 'ask' }),
    /** Directory of the encrypted recordings (one directory per recording), and of their key-encryption key. */
    dir: Type.String({ minLength: 1, default: '.lectern/recordings' }),
    /** Recordings are deleted this many days after they started; an instructor may shorten it per room, never lengthen it. */
    retentionDays: Type.Integer({ minimum: 1, maximum: 3653, default: 30 }),
    /** How often expired recordings are looked for and deleted. */
    sweepIntervalSeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 3600 }),
    /** Whether students of a room may play its recordings (instructors always may). */
    studentPlayback: Type.Boolean({ default: false }),
    /** Lifetime of a signed playback link. Short: a link that leaks stops working soon. */
    playbackLinkTtlSeconds: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
  },
  { additionalProperties: false, default: {} },
);
export type RecordingConfig = Static<typeof RecordingSchema>;
