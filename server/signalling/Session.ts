// One signalling connection. Every frame goes through the same gate, in this order: size, JSON,
// envelope, method, data schema, rate limit; only then does a handler run. Whatever goes wrong is
// answered with an error frame and the connection (and everyone else's) carries on; a connection
// that keeps sending junk is closed with a policy-violation code.
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
import type { RoomRegistry } from '../rooms/RoomRegistry.js';
import type { HandlerTable, RequestContext } from './Handler.js';
import { SignallingError } from './SignallingError.js';
import { toWireError } from './wireError.js';
import { RateLimiter } from './RateLimiter.js';
import { authorize } from './authorization.js';

const envelopeCheck = TypeCompiler.Compile(RequestEnvelope);
const dataChecks = Object.fromEntries(
  Object.entries(Methods).map(([name, m]) => [name, TypeCompiler.Compile(m.data as TSchema)]),
) as Record<MethodName, TypeCheck<TSchema>>;

/** WebSocket close code for a peer that breaks the protocol (RFC 6455 1008). */
export const POLICY_VIOLATION = 1008;
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
  log: FastifyBaseLogger;
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
  readonly #limiter: RateLimiter;
  #room: Room | undefined;
  #peer: Peer | undefined;
  /** Stops listening for the attached peer leaving. */
  #unwatch: (() => void) | undefined;
  #invalidFrames = 0;
  #joining = false;
  #closed = false;

  /** `signIn` and `reqId` are copied out of the upgrade request by the route, so the request need not live on. */
  constructor(socket: WebSocket, signIn: SignInHeaders, reqId: string, deps: SessionDeps) {
    this.#socket = socket;
    this.signIn = signIn;
    this.#reqId = reqId;
    this.#deps = deps;
    this.#log = deps.log;
    this.#limiter = new RateLimiter(deps.config.signalling.maxRequestsPerSecond);
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
    const bytes = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
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
    if (!this.#limiter.take()) {
      return this.#send({ kind: 'response', id, ok: false, error: { code: 'rate_limited', message: 'too many requests; slow down' } });
    }
    this.#invalidFrames = 0;
    void this.#dispatch(id, method as MethodName, data);
  }

  async #dispatch(id: number, method: MethodName, data: unknown): Promise<void> {
    const after: (() => Promise<void>)[] = [];
    const ctx: RequestContext = {
      session: this,
      rooms: this.#deps.rooms,
      identities: this.#deps.identities,
      config: this.#deps.config,
      log: this.#log,
      afterReply: (work) => after.push(work),
    };
    try {
      authorize(method, data as never, this.#peer);
      // The data was checked against this method's schema just above.
      const handler = this.#deps.handlers[method] as (c: RequestContext, d: unknown) => Promise<unknown>;
      const reply = await handler(ctx, data);
      this.#send({ kind: 'response', id, ok: true, data: reply });
    } catch (error) {
      this.#send({ kind: 'response', id, ok: false, error: toWireError(error, this.#log, method) });
      return;
    }
    for (const work of after) {
      await work().catch((error: unknown) => this.#log.error({ err: error, method }, 'after-reply work failed'));
    }
  }

  #reject(id: number | null, error: WireError): void {
    const frame: ErrorFrame = { kind: 'response', id, ok: false, error };
    this.#send(frame);
    this.#invalidFrames += 1;
    if (this.#invalidFrames >= this.#deps.config.signalling.maxInvalidFrames) {
      this.#log.warn({ invalidFrames: this.#invalidFrames }, 'closing connection that keeps sending invalid frames');
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
