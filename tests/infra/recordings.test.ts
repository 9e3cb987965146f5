// Issue 16 item 7, checked against the Pulumi program under mocks: the deployed server keeps its
// encrypted recordings in the host's data directory (the Local Zone's encrypted volume, or synced
// to the region's bucket under its KMS key), no longer than the deployment's storage retention;
// deletions reach the bucket; the key-encryption key never leaves the host; nothing deletes
// recordings behind the server's back (that would leave no receipt).
import { describe, expect, it } from 'vitest';
import { planDeployment } from '../../infra/plan.js';
import { deployedServerConfig, RECORDINGS_DIR } from '../../infra/server-config.js';
import { runProgram, stackConfig } from './support/harness.js';
import { cloudConfig, userDataOf } from './support/checks.js';

describe('recordings in the deployment', () => {
  it('the server records into the data directory, within the storage retention', () => {
    const plan = planDeployment(stackConfig('Pulumi.example-ca.yaml'));
    const server = deployedServerConfig(plan, { announcedAddress: '203.0.113.10' });
    expect(server.recording.dir).toBe(RECORDINGS_DIR);
    expect(server.recording.retentionDays).toBeLessThanOrEqual(plan.deployment.storage.recordingsRetentionDays);
  });

  it('in a region: the store is synced to the bucket with the stack key, deletions included, the KEK excluded', async () => {
    const { resources } = await runProgram(stackConfig('Pulumi.example-ca.yaml'), 'lectern', 'example-ca');
    const media = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    const upload = media.write_files.find((f) => f.path === '/etc/cron.d/lectern-recordings-upload')!.content;
    expect(upload).toContain(`s3 sync --delete`);
    expect(upload).toContain(`${RECORDINGS_DIR}/ 's3://`);
    expect(upload).toContain('--sse aws:kms --sse-kms-key-id');
    expect(upload).toContain("--exclude 'recording-kek.key'");
    expect(upload).not.toContain(' s3 mv ');
  });

  it('in a Local Zone: recordings stay on the encrypted volume and only the server deletes them', async () => {
    const { resources } = await runProgram(stackConfig('Pulumi.example-dk.yaml'), 'lectern', 'example-dk');
    const media = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    // (this example is placed in a Local Zone: its data volume is mounted)
    expect(media.write_files.map((f) => f.path)).toContain('/usr/local/sbin/lectern-mount-data');
    expect(media.write_files.map((f) => f.path)).not.toContain('/etc/cron.daily/lectern-recordings-retention');
    expect(JSON.stringify(media)).not.toMatch(/recordings[^"]*-delete/);
  });
});
