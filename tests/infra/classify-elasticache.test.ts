// The one classification (config/residency/classify.ts) on the coordination store's resource types:
// an in-region replication group is data kept in its region; anything that brings its data from or
// sends it to a place the stack cannot establish is refused.
import { describe, expect, it } from 'vitest';
import { classifyResource, residencyViolations, type ResourceInput } from '../../config/residency/index.js';

const provider = { type: 'pulumi:providers:aws', name: 'lectern-aws', urn: 'urn:pulumi:s::lectern::pulumi:providers:aws::lectern-aws', props: { region: 'eu-central-1' } };
const rules = (r: ResourceInput): string[] => residencyViolations(classifyResource(r), r, { country: 'DE' }).map((v) => v.rule);
const group = (props: Record<string, unknown>): ResourceInput => ({ type: 'aws:elasticache/replicationGroup:ReplicationGroup', name: 'redis', props: { description: 'x', ...props }, provider });

describe('ElastiCache residency classification', () => {
  it('an in-region replication group (primary and replicas in one region) stores data there and is allowed', () => {
    const c = classifyResource(group({}));
    expect([c.role, c.location.code, c.location.country, c.copyByNature]).toEqual(['stores', 'eu-central-1', 'DE', false]);
    expect(rules(group({}))).toEqual([]);
    expect(rules(group({ preferredCacheClusterAzs: ['eu-central-1a', 'eu-central-1b'], snapshotRetentionLimit: 1 }))).toEqual([]);
  });

  it('refuses a group in a global datastore, seeded from files it cannot place, with replicas in zones abroad, or moved abroad', () => {
    expect(rules(group({ globalReplicationGroupId: 'ldgnf-x' }))).toEqual(['copy-target-unknown']);
    expect(rules(group({ snapshotArns: ['arn:aws:s3:::elsewhere/dump.rdb'] }))).toEqual(['copy-target-unknown']);
    expect(rules(group({ preferredCacheClusterAzs: ['eu-central-1a', 'eu-west-1b'] }))).toEqual(['copies-outside-country']);
    expect(rules(group({ region: 'eu-west-1' }))).toEqual(expect.arrayContaining(['region-override', 'outside-country']));
    expect(rules({ type: 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup', name: 'g', props: { globalReplicationGroupIdSuffix: 's', primaryReplicationGroupId: 'redis' }, provider })).toEqual(['copy-target-unknown']);
    expect(rules({ type: 'aws:elasticache/serverlessCache:ServerlessCache', name: 's', props: { engine: 'redis', snapshotArnsToRestores: ['arn:aws:elasticache:eu-west-1:1:snapshot:x'] }, provider })).toEqual(['copies-outside-country']);
  });

  it('classifies the subnet group and access control as regional metadata, and an unknown ElastiCache type is not classified', () => {
    expect(classifyResource({ type: 'aws:elasticache/subnetGroup:SubnetGroup', name: 'n', props: { subnetIds: ['a'] }, provider }).role).toBe('control');
    expect(rules({ type: 'aws:elasticache/reservedCacheNode:ReservedCacheNode', name: 'r', props: {}, provider })).toEqual(['not-classified']);
  });
});
