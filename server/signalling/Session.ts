// One signalling connection. Every frame goes through the same gate, in this order: frame and byte
// budget (before anything is parsed, so a flood of junk costs next to nothing), size, JSON,
// envelope, method, data schema, request rate; only then does a handler run. Whatever goes wrong is
// answered with an error frame and the connection (and everyone else's) carries on; a connection
// that keeps sending junk, or keeps exceeding its budget, is closed with a policy-violation code —
// valid frames mixed in do not reset that count (it drains slowly, per minute).
import type { WebSocket, RawData } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { LecternConfig } from '../../config/index.js';
import {
  Methods,
  RequestEnvelope,
  type ErrorFrame,
  type MethodName,
  type NotificationData,
  type NotificationName,
  type WireError,
} from '../../protocol/index.js';
import type { Room } from '../rooms/Room.js';
import type { Peer, Notifier, PeerIdentity } from '../rooms/Peer.js';
import type { RoomRegistry, RoomRequester } from '../rooms/RoomRegistry.js';
import type { IceServers } from '../ice/IceServers.js';
import type { HandlerTable, RequestContext } from './Handler.js';
import { SignallingError } from './SignallingError.js';
import { toWireError } from './wireError.js';
import { RateLimiter } from './RateLimiter.js';
import { authorize } from './authorization.js';
import { Acknowledgement } from '../audit/Acknowledgement.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { NodeMetrics } from '../metrics/NodeMetrics.js';

const envelopeCheck = TypeCompiler.Compile(RequestEnvelope);
const dataChecks = Object.fromEntries(
  Object.entries(Methods).map(([name, m]) => [name, TypeCompiler.Compile(m.data as TSchema)]),
) as Record<MethodName, TypeCheck<TSchema>>;

/** WebSocket close code for a peer that breaks the protocol (RFC 6455 1008). */
export const POLICY_VIOLATION = 1008;
/** WebSocket close code when the server cannot go on with this connection (RFC 6455 1011). */
const INTERNAL_ERROR = 1011;
/** WebSocket close code for a connection whose participant was resumed on another connection. */
export const RESUMED_ELSEWHERE = 4001;

/** The part of the WebSocket upgrade request that can carry a sign-in. */
export interface SignInHeaders {
  headers: { cookie?: string | undefined };
}

/** Establishes who is joining a room. */
export interface IdentityResolver {
  /**
   * From a room token if given, else the sign-in session carried by the WebSocket upgrade request,
   * else guest access if the deployment allows it; throws an `unauthorized` error otherwise.
   */
  resolve(room: string, token: string | undefined, request: SignInHeaders): Promise<PeerIdentity & { displayName?: string | undefined }>;
}

/** What a session needs from the server. */
export interface SessionDeps {
  rooms: RoomRegistry;
  config: LecternConfig;
  handlers: HandlerTable;
  identities: IdentityResolver;
  ice: IceServers;
  log: FastifyBaseLogger;
  cluster: ClusterNode;
  metrics: NodeMetrics;
}

/** A browser's signalling connection and the room membership it carries. */
export class Session implements Notifier {
  readonly #socket: WebSocket;
  /** Shared by every session (one object, see routes/signalling.ts). */
  readonly #deps: SessionDeps;
  /** The sign-in cookie of the upgrade request; the request itself is not kept (memory per idle session). */
  readonly signIn: SignInHeaders;
  readonly #log: FastifyBaseLogger;
  /** The upgrade request's id, to tie this connection's log lines to fastify's 'incoming request'. */
  readonly #reqId: string;
  /** The client's address (request.ip: the forwarded one behind a trusted proxy). */
  readonly #address: string;
  /** Valid requests per second; over it, the client is told to retry. */
  readonly #requests: RateLimiter;
  /** Frames and bytes per second, taken before parsing. */
  readonly #frames: RateLimiter;
  readonly #bytes: RateLimiter;
  /** Invalid frames per minute; empty means close. */
  readonly #invalid: RateLimiter;
  #room: Room | undefined;
  #peer: Peer | undefined;
  /** Stops listening for the attached peer leaving. */
  #unwatch: (() => void) | undefined;
  #joining = false;
  /** A policy-violation close has started: later frames are not read. */
  #closing = false;
  #closed = false;

  /** `signIn`, `reqId` and `address` are copied out of the upgrade request by the route, so the request need not live on. */
  constructor(socket: WebSocket, signIn: SignInHeaders, reqId: string, address: string, deps: SessionDeps) {
    this.#socket = socket;
    this.signIn = signIn;
    this.#reqId = reqId;
    this.#address = address;
    this.#deps = deps;
    this.#log = deps.log;
    const limits = deps.config.signalling;
    this.#requests = new RateLimiter(limits.maxRequestsPerSecond);
    // Every request is a frame: the frame budget is never below the request rate.
    this.#frames = new RateLimiter(Math.max(limits.maxFramesPerSecond, limits.maxRequestsPerSecond));
    // A burst of at least one largest frame, or a frame at the limit could never pass.
    this.#bytes = new RateLimiter(limits.maxBytesPerSecond, undefined, Math.max(limits.maxBytesPerSecond, limits.maxFrameBytes));
    // The frame that brings the count to maxInvalidFrames closes the connection: one fewer is banked.
    this.#invalid = new RateLimiter(limits.maxInvalidFrames / 60, undefined, limits.maxInvalidFrames - 1);
    socket.on('message', (raw, isBinary) => this.#onFrame(raw, isBinary));
    socket.on('close', () => this.close());
    // ws emits 'error' for a broken frame or one above maxPayload, and has already started the close.
    // This is the only 'error' listener (the route removes @fastify/websocket's, which kept the
    // upgrade request alive) and does what that one did by default: log it and drop the connection.
    // A warning, not an error: it is the client's fault, and one line per connection at most.
    socket.on('error', (error) => {
      this.#log.warn({ err: error, reqId: this.#reqId, peer: this.#peer?.id }, 'websocket error');
      this.#socket.terminate();
    });
  }

  /** Whether this connection has joined a room. */
  get joined(): boolean {
    return this.#peer !== undefined;
  }

  /** Who this connection is, for the limits on opening rooms. */
  get requester(): RoomRequester {
    return { connection: this.#reqId, address: this.#address };
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The room and peer of an admitted participant; authorize() has already refused anyone else. */
  requireJoined(): { room: Room; peer: Peer } {
    const member = this.requireMember();
    if (!member.peer.admitted) throw new SignallingError('in_lobby', 'waiting for an instructor to let you in');
    return member;
  }

  /** The room and peer, admitted or still in the lobby. */
  requireMember(): { room: Room; peer: Peer } {
    if (!this.#room || !this.#peer) throw new SignallingError('not_joined', 'join a room first');
    return { room: this.#room, peer: this.#peer };
  }

  /**
   * Start a join: refused while joined or while another join is in flight, so two quick join
   * frames cannot leave a ghost participant behind. `finishJoin` ends it, whatever the outcome.
   */
  beginJoin(): void {
    if (this.#peer || this.#joining) throw new SignallingError('already_joined', 'this connection has already joined a room');
    this.#joining = true;
  }

  /** The join in flight is over (attached or failed). */
  finishJoin(): void {
    this.#joining = false;
  }

  /** Bind this connection to a room membership (called by `join` and `resume`). */
  attach(room: Room, peer: Peer): void {
    this.#room = room;
    this.#peer = peer;
    const onPeerLeft = (left: Peer) => {
      if (left === peer) this.#forget();
    };
    room.on('peerLeft', onPeerLeft);
    this.#unwatch = () => room.off('peerLeft', onPeerLeft);
  }

  /**
   * Another connection resumed this one's participant (this one is half dead, or a second tab
   * took over): let go of the membership without leaving, and close.
   */
  displace(): void {
    this.#forget();
    this.#socket.close(RESUMED_ELSEWHERE, 'resumed on another connection');
  }

  /** Leave the current room, if any. */
  leaveRoom(): void {
    if (this.#room && this.#peer) this.#room.remove(this.#peer);
  }

  /** Push a notification; dropped if the socket is not open. */
  notify<N extends NotificationName>(method: N, data: NotificationData<N>): void {
    this.#send({ kind: 'notification', method, data });
  }

  /**
   * The connection ended. A participant does not leave yet: the room holds them for the resume
   * grace window (a new connection may take them back); only a `leave` leaves at once. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const room = this.#room;
    const peer = this.#peer;
    this.#forget();
    if (room && peer) room.detach(peer, this);
  }

  #forget(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#room = undefined;
    this.#peer = undefined;
  }

  #onFrame(raw: RawData, isBinary: boolean): void {
    if (this.#closing) return;
    const bytes = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
    // Both budgets are always charged, so a flood of small frames and one of large ones both run dry.
    const withinFrames = this.#frames.take();
    const withinBytes = this.#bytes.take(bytes);
    if (!withinFrames || !withinBytes) {
      return this.#reject(null, { code: 'rate_limited', message: 'too much sent too fast; frames were dropped unread' });
    }
    if (bytes > this.#deps.config.signalling.maxFrameBytes) {
      return this.#reject(null, { code: 'frame_too_large', message: `frames are limited to ${this.#deps.config.signalling.maxFrameBytes} bytes` });
    }
    if (isBinary) return this.#reject(null, { code: 'bad_frame', message: 'binary frames are not part of the protocol' });
    let frame: unknown;
    try {
      frame = JSON.parse(rawToString(raw));
    } catch {
      return this.#reject(null, { code: 'bad_frame', message: 'frame is not valid JSON' });
    }
    if (!envelopeCheck.Check(frame)) {
      const id = recoverId(frame);
      return this.#reject(id, { code: 'bad_frame', message: `not a request frame: ${firstError(envelopeCheck, frame)}` });
    }
    const { id, method, data } = frame;
    if (!Object.hasOwn(Methods, method)) {
      return this.#reject(id, { code: 'unknown_method', message: `unknown method "${method.slice(0, 64)}"` });
    }
    const check = dataChecks[method as MethodName];
    if (!check.Check(data)) {
      return this.#reject(id, { code: 'invalid_data', message: `${method}: ${firstError(check, data)}` });
    }
    if (!this.#requests.take()) {
      return this.#send({ kind: 'response', id, ok: false, error: { code: 'rate_limited', message: 'too many requests; slow down' } });
    }
    void this.#dispatch(id, method as MethodName, data);
  }

  async #dispatch(id: number, method: MethodName, data: unknown): Promise<void> {
    const after: (() => Promise<void>)[] = [];
    const ctx: RequestContext = {
      session: this,
      rooms: this.#deps.rooms,
      identities: this.#deps.identities,
      config: this.#deps.config,
      ice: this.#deps.ice,
      log: this.#log,
      cluster: this.#deps.cluster,
      metrics: this.#deps.metrics,
      afterReply: (work) => after.push(work),
    };
    try {
      authorize(method, data as never, this.#peer);
      // The data was checked against this method's schema just above.
      const handler = this.#deps.handlers[method] as (c: RequestContext, d: unknown) => Promise<unknown>;
      const acknowledgement = new Acknowledgement();
      const reply = await acknowledgement.run(() => handler(ctx, data));
      // Not acknowledged before its audit entries are on disk (server/audit/Acknowledgement.ts).
      if (!(await this.#durable(acknowledgement, id, method))) return;
      this.#send({ kind: 'response', id, ok: true, data: reply });
    } catch (error) {
      this.#send({ kind: 'response', id, ok: false, error: toWireError(error, this.#log, method) });
      return;
    }
    for (const work of after) {
      await work().catch((error: unknown) => this.#log.error({ err: error, method }, 'after-reply work failed'));
    }
  }

  /**
   * Wait for the request's audit entries. If they cannot be written, the action happened but cannot
   * be accounted for: it is not acknowledged, and the connection is closed (its participant leaves),
   * so the client does not go on in a state the audit log does not know. Fail closed.
   */
  async #durable(acknowledgement: Acknowledgement, id: number, method: MethodName): Promise<boolean> {
    try {
      await acknowledgement.durable();
      return true;
    } catch (error) {
      this.#log.error({ err: error, method, peer: this.#peer?.id }, 'audit entry not written: request not acknowledged, connection closed');
      this.#send({ kind: 'response', id, ok: false, error: { code: 'unavailable', message: 'the server could not record this action in its audit log; it was not confirmed' } });
      this.#socket.close(INTERNAL_ERROR, 'audit log unavailable');
      // Leaves at once, not after the resume window: no later request could be acknowledged either.
      this.leaveRoom();
      this.close();
      return false;
    }
  }

  #reject(id: number | null, error: WireError): void {
    const frame: ErrorFrame = { kind: 'response', id, ok: false, error };
    this.#send(frame);
    if (!this.#invalid.take()) {
      this.#closing = true;
      this.#log.warn({ reqId: this.#reqId, peer: this.#peer?.id }, 'closing connection that keeps sending invalid frames');
      this.#socket.close(POLICY_VIOLATION, 'too many invalid frames');
    }
  }

  #send(frame: object): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(frame));
  }
}

function rawToString(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return raw.toString('utf8');
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const error = check.Errors(value).First();
  if (!error) return 'invalid';
  return error.path ? `${error.path}: ${error.message}` : error.message;
}

/** Answer a broken request with its id when one can be read, so the client can match the error. */
function recoverId(frame: unknown): number | null {
  if (typeof frame !== 'object' || frame === null || !('id' in frame)) return null;
  const id = (frame as { id: unknown }).id;
  return Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : null;
}
