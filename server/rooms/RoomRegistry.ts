// The rooms of this server, created on first join and closed a while after the last person
// leaves (so a reload or a flaky network does not tear down the router under the class).
//
// A room's life is driven by its size alone: it is due to close `emptyRoomTimeoutSeconds` after it
// is created and whenever it becomes empty, and that is called off only when someone actually
// enters. Asking for a room never calls it off: a join that is refused by the room (locked, full,
// removed) or abandoned (the socket closed while the room was being made) would otherwise leave a
// room nobody is in and nothing will ever close.
import type { FastifyBaseLogger } from 'fastify';
import type { Sfu } from '../../sfu/index.js';
import type { LecternConfig } from '../../config/index.js';
import { Room } from './Room.js';
import type { ClassRecorder } from './ClassRecord.js';
import { CreationQuota } from './CreationQuota.js';
import { Admission } from './Admission.js';
import type { RecordingBackend } from './RecordingConsent.js';
import { SignallingError } from '../signalling/SignallingError.js';
import type { EdgeNode, PipeFlow } from '../cluster/EdgeNode.js';

/** Who asks for a room: room creation is limited per connection and per client address. */
export interface RoomRequester {
  /** Unique per signalling connection. */
  connection: string;
  /** The client's address as the server sees it (behind a trusted proxy: the forwarded one). */
  address: string;
}

/** Finds or creates rooms by name. */
export class RoomRegistry {
  readonly #sfu: Sfu;
  readonly #config: LecternConfig;
  readonly #log: FastifyBaseLogger;
  readonly #recorder: ClassRecorder;
  readonly #recordings: RecordingBackend | undefined;
  readonly #rooms = new Map<string, Room>();
  // Two people joining a new room at once must land in the same room, not race two routers.
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #emptyTimers = new Map<string, NodeJS.Timeout>();
  readonly #perConnection: CreationQuota;
  readonly #perAddress: CreationQuota;
  readonly #admission: Admission;
  #closed = false;
  /** Edge nodes for rooms bigger than this node (cluster.internal), set by the app. */
  edges: EdgeNode | undefined;

  constructor(sfu: Sfu, config: LecternConfig, log: FastifyBaseLogger, recorder: ClassRecorder, recordings?: RecordingBackend) {
    this.#recordings = recordings;
    this.#sfu = sfu;
    this.#config = config;
    this.#log = log;
    this.#recorder = recorder;
    this.#perConnection = new CreationQuota(config.rooms.maxCreatedPerConnectionPerMinute);
    this.#perAddress = new CreationQuota(config.rooms.maxCreatedPerAddressPerMinute);
    this.#admission = new Admission(sfu, config.media.capacity.reservedForInstructors, config.roles);
  }

  /** Live rooms. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** An edge node is gone: every room here moves the subscribers it carried. */
  edgeLost(nodeId: string): void {
    for (const room of this.#rooms.values()) {
      void room.edgeLost(nodeId, async () => this.edges?.place(room.name)).catch((error: unknown) => this.#log.error({ err: error }, 'moving subscribers off a lost edge failed'));
    }
  }

  /** Every pipe of every room here to an edge node, with both ends' countries. */
  async pipeFlows(): Promise<PipeFlow[]> {
    if (!this.edges) return [];
    const pipes = (await Promise.all([...this.#rooms.values()].map((room) => room.pipes()))).flat();
    return this.edges.flows(pipes);
  }

  /** Total participants across rooms. */
  get peerCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.size;
    return n;
  }

  /**
   * The room with that name, created if needed and the limits allow it. The room is not held open
   * for the caller: unless someone enters it, it closes after `emptyRoomTimeoutSeconds`.
   */
  async getOrCreate(name: string, requester: RoomRequester): Promise<Room> {
    const existing = this.#rooms.get(name);
    if (existing && !existing.closed) return existing;
    let pending = this.#creating.get(name);
    if (!pending) {
      this.#admitCreation(requester);
      pending = this.#create(name).finally(() => this.#creating.delete(name));
      this.#creating.set(name, pending);
    }
    return pending;
  }

  /** Close every room (server shutdown). */
  close(reason = 'server shutting down'): void {
    this.#closed = true;
    for (const timer of this.#emptyTimers.values()) clearTimeout(timer);
    this.#emptyTimers.clear();
    for (const room of [...this.#rooms.values()]) room.close(reason);
  }

  /** Refuse a new room past the server's cap or the requester's creation rate; count it otherwise. */
  #admitCreation(requester: RoomRequester): void {
    const { maxRooms } = this.#config.rooms;
    if (this.#rooms.size + this.#creating.size >= maxRooms) {
      this.#log.warn({ rooms: this.#rooms.size, maxRooms }, 'room refused: server has its maximum of rooms open');
      throw new SignallingError('too_many_rooms', `this server already has its maximum of ${maxRooms} classes open; try again later`);
    }
    const connection = `c:${requester.connection}`;
    const address = `a:${requester.address}`;
    if (!this.#perConnection.allows(connection) || !this.#perAddress.allows(address)) {
      this.#log.warn({ reqId: requester.connection }, 'room refused: too many new rooms from one client');
      throw new SignallingError('rate_limited', 'too many new classes opened from your connection in the last minute; join an existing class or wait a minute');
    }
    this.#perConnection.count(connection);
    this.#perAddress.count(address);
  }

  async #create(name: string): Promise<Room> {
    if (this.#closed) throw new Error('room registry is closed');
    const media = await this.#sfu.createRoomMedia(name);
    const { rooms, roles } = this.#config;
    const options = {
      maxPeers: rooms.maxPeersPerRoom,
      lobby: rooms.lobbyByDefault,
      chatHistory: rooms.chatHistory,
      roles,
      breakoutWarningSeconds: rooms.breakoutWarningSeconds,
      resumeGraceSeconds: this.#config.signalling.resumeGraceSeconds,
      admission: this.#admission,
      maxVideoConsumers: rooms.maxVideoConsumers,
      lectureMode: rooms.lectureMode,
      forwardedSpeakers: rooms.forwardedSpeakers,
      recording: this.#recordings,
      edgeIdle: (room: string, nodeId: string) => void this.edges?.dropForwarder(room, nodeId),
    };
    // The last argument lets a room whose worker died move to a live one.
    const room = new Room(name, media, options, this.#log, this.#recorder, () => this.#sfu.createRoomMedia(name));
    this.#rooms.set(name, room);
    // Due to close from the start: whoever asked for it may never enter (see the top of the file).
    this.#scheduleClose(room);
    room.on('occupied', () => this.#cancelEmptyTimer(name));
    room.on('empty', () => this.#scheduleClose(room));
    room.once('close', () => {
      this.#cancelEmptyTimer(name);
      if (this.#rooms.get(name) === room) this.#rooms.delete(name);
    });
    this.#log.info({ room: name, worker: media.workerIndex }, 'room created');
    return room;
  }

  #scheduleClose(room: Room): void {
    this.#cancelEmptyTimer(room.name);
    const timer = setTimeout(() => {
      this.#emptyTimers.delete(room.name);
      if (room.size === 0) room.close('empty');
    }, this.#config.rooms.emptyRoomTimeoutSeconds * 1000);
    timer.unref();
    this.#emptyTimers.set(room.name, timer);
  }

  #cancelEmptyTimer(name: string): void {
    const timer = this.#emptyTimers.get(name);
    if (timer) clearTimeout(timer);
    this.#emptyTimers.delete(name);
  }
}
