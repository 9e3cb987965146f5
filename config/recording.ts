// Recording a class: off until someone with the `record` permission starts it, and then only the
// participants who agreed. What "agreed" means is the university's rule, so it is config.
import { Type, type Static } from '@sinclair/typebox';
import { CountryCodeSchema } from './deployment.js';

export const RecordingConsentPolicySchema = Type.Union([Type.Literal('ask'), Type.Literal('inform')]);
/** `ask`: nobody is recorded until they consent. `inform`: everyone is told and recorded unless they decline. */
export type RecordingConsentPolicy = Static<typeof RecordingConsentPolicySchema>;

/** The embedded default: a key file beside the recordings (recording-kek.key, 0600, made on first start). */
export const LocalKeyWrappingSchema = Type.Object({ kind: Type.Literal('local-file') }, { additionalProperties: false });

/**
 * A deployment's KEK: a single-Region AWS KMS key in the deployment's country. Data keys are wrapped
 * with KMS Encrypt/Decrypt under an encryption context naming the recording and its room, with the
 * host's instance-role credentials (the SDK's default provider chain). Checked at start-up
 * (config/residency/recordingKey.ts): a key outside `country`, a multi-Region key, an alias or a key
 * ARN that disagrees with `region` stops the server.
 */
export const KmsKeyWrappingSchema = Type.Object(
  {
    kind: Type.Literal('aws-kms'),
    /** The key's ARN, arn:aws:kms:<region>:<account>:key/<id>: only an ARN proves which region holds the key. */
    keyArn: Type.String({ pattern: '^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:[a-z]+/[A-Za-z0-9/_-]+$' }),
    /** Region of the KMS endpoint; must be the key's own. */
    region: Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-[0-9]+$' }),
    /** The deployment's country: the key's region must be in it. */
    country: CountryCodeSchema,
    /** A VPC interface endpoint of KMS in that region (https://vpce-....kms.<region>.vpce.amazonaws.com); default the regional endpoint. */
    endpoint: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+/?$' })),
  },
  { additionalProperties: false },
);

/**
 * The encryption-context keys a recording's data key is wrapped under in KMS: the server sends them,
 * and the deployment's IAM condition admits calls with exactly these (infra/components/RecordingKey.ts).
 */
export const KMS_CONTEXT_RECORDING = 'lectern:recording';
export const KMS_CONTEXT_ROOM = 'lectern:room';

export type KmsKeyWrappingConfig = Static<typeof KmsKeyWrappingSchema>;
export type KeyWrappingConfig = Static<typeof LocalKeyWrappingSchema> | KmsKeyWrappingConfig;

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
    /**
     * A recorded video track asks its sender for a keyframe this often, so its seek index (a Cue at
     * every keyframe) has a seek point at least every so many seconds: a browser's encoder sends
     * keyframes only when asked. 10 s: a seek then lands at most 10 s before the wanted moment
     * (the player decodes forward from there), while a keyframe costs several delta frames and
     * goes to every subscriber of the track, not only the recorder (~3 % of a 1 Mbit/s camera at
     * one per 10 s).
     */
    keyframeIntervalSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 10 }),
    /** Which key-encryption key wraps each recording's data key: the local key file, or an in-country KMS key. */
    keyWrapping: Type.Union([LocalKeyWrappingSchema, KmsKeyWrappingSchema], { default: { kind: 'local-file' } }),
  },
  { additionalProperties: false, default: {} },
);
export type RecordingConfig = Static<typeof RecordingSchema>;
