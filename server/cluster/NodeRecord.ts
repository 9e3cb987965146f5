// What a node publishes about itself in the registry. Read back from a shared store, so it is
// validated like network input: a malformed or foreign entry is never used.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NodePlacementSchema } from '../../config/index.js';

export const NodeRecordSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    /** Where browsers reach this node's signalling; redirects point here. */
    signallingUrl: Type.String({ pattern: '^https?://[^/]+$' }),
    /** Private address for pipes between nodes. */
    privateAddress: Type.Optional(Type.String({ maxLength: 64 })),
    /** Port of the internal RPC listener on `privateAddress` (nodes that pipe rooms; cluster.internal). */
    rpcPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** Edge subscribers it still takes for other nodes' rooms (0 or absent: not an edge). */
    edgeRoom: Type.Optional(Type.Integer({ minimum: 0 })),
    placement: NodePlacementSchema,
    /** Participants this node takes. */
    capacity: Type.Integer({ minimum: 1 }),
    /** participants / capacity, the number placement compares (and `lectern_node_load`). */
    load: Type.Number({ minimum: 0 }),
    /** Shutting down: takes no new rooms. */
    draining: Type.Boolean(),
    /** Milliseconds since the epoch. */
    startedAt: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type NodeRecord = Static<typeof NodeRecordSchema>;

/** A stored record, or undefined when it is not one (wrong shape, unknown keys). */
export function parseNodeRecord(raw: unknown): NodeRecord | undefined {
  return Value.Check(NodeRecordSchema, raw) ? raw : undefined;
}
