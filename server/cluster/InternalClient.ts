// The calling side of the control channel: a signed POST to another node's internal listener on
// its private address, the reply validated against the method's schema like any network input.
// Refusals come back as the errors the media plane uses (SfuError by reason), so the home node's
// signalling maps an edge's "no such consumer" exactly as a local one.
import { Value } from '@sinclair/typebox/value';
import { SfuError } from '../../sfu/index.js';
import { EdgeMethods, edgePath, type EdgeBody, type EdgeMethodName, type EdgeReply } from './edgeProtocol.js';
import { newNonce, signedHeaders } from './nodeSignature.js';

const TIMEOUT_MS = 5000;

/** The edge said it cannot take another subscriber (its own media capacity). */
export class EdgeFull extends Error {
  override readonly name = 'EdgeFull';
}

/** Calls other nodes' internal listeners as this node. */
export class InternalClient {
  readonly #nodeId: string;
  readonly #secret: string;

  constructor(nodeId: string, secret: string) {
    this.#nodeId = nodeId;
    this.#secret = secret;
  }

  /** Call `method` on node `to`, listening at `base` (http://privateAddress:rpcPort). Signed for `to` alone, with a fresh nonce. */
  async call<M extends EdgeMethodName>(to: string, base: string, method: M, body: EdgeBody<M>): Promise<EdgeReply<M>> {
    const path = edgePath(method);
    const text = JSON.stringify(body);
    const fields = { path, from: this.#nodeId, to, time: Date.now(), nonce: newNonce() };
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(this.#secret, fields, text) },
      body: text,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const reply: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (reply as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const message = `edge ${method}: ${typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`}`;
      if (error?.code === 'at_capacity') throw new EdgeFull(message);
      if (response.status === 404) throw new SfuError('not_found', message);
      if (response.status === 400) throw new SfuError('rejected', message);
      if (response.status === 409) throw new SfuError('closed', message);
      throw new Error(message);
    }
    const schema = EdgeMethods[method].reply;
    if (!Value.Check(schema, reply)) throw new Error(`edge ${method}: the reply does not match its schema`);
    return reply as EdgeReply<M>;
  }
}
