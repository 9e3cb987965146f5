// The host role's grant on the recording key, as plain data (no Pulumi runtime needed), so the test
// KMS endpoint can enforce the very statement the program writes (tests/server/recordingKms.test.ts).
import type * as pulumi from '@pulumi/pulumi';
import { KMS_CONTEXT_RECORDING as CONTEXT_RECORDING, KMS_CONTEXT_ROOM as CONTEXT_ROOM } from '../../config/index.js';

/** An IAM statement on a recording key. */
export type RecordingKeyStatement<K> = {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: K;
  Condition: Record<string, Record<string, string | string[]>>;
};

/**
 * The host role's one grant on a recording key `keyArn` (a string, or a Pulumi output of one): wrap
 * and unwrap data keys, only with an encryption context that names a recording and a room and
 * nothing else (KMS evaluates it on every call).
 */
export function recordingKeyStatement<K extends pulumi.Input<string>>(keyArn: K): RecordingKeyStatement<K> {
  return {
    Sid: 'RecordingDataKeys',
    Effect: 'Allow',
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: keyArn,
    Condition: {
      Null: { [`kms:EncryptionContext:${CONTEXT_RECORDING}`]: 'false', [`kms:EncryptionContext:${CONTEXT_ROOM}`]: 'false' },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [CONTEXT_RECORDING, CONTEXT_ROOM] },
    },
  };
}
