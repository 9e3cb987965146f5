// The rooms of this server, created on first join and closed a while after the last person
// leaves (so a reload or a flaky network does not tear down the router under the class).
import type { FastifyBaseLogger } from 'fastify';
import type { Sfu } from '../../sfu/index.js';
import type { LecternConfig } from '../../config/index.js';
import { Room } from './Room.js';
import type { ClassRecorder } from './ClassRecord.js';

/** Finds or creates rooms by name. */
export class RoomRegistry {
  readonly #sfu: Sfu;
  readonly #config: LecternConfig;
  readonly #log: FastifyBaseLogger;
  readonly #recorder: ClassRecorder;
  readonly #rooms = new Map<string, Room>();
  // Two people joining a new room at once must land in the same room, not race two routers.
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #emptyTimers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(sfu: Sfu, config: LecternConfig, log: FastifyBaseLogger, recorder: ClassRecorder) {
    this.#sfu = sfu;
    this.#config = config;
    this.#log = log;
    this.#recorder = recorder;
  }

  /** Live rooms. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** Total participants across rooms. */
  get peerCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.size;
    return n;
  }

  /** The room with that name, created if needed. */
  async getOrCreate(name: string): Promise<Room> {
    const existing = this.#rooms.get(name);
    if (existing && !existing.closed) {
      this.#cancelEmptyTimer(name);
      return existing;
    }
    let pending = this.#creating.get(name);
    if (!pending) {
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

  async #create(name: string): Promise<Room> {
    if (this.#closed) throw new Error('room registry is closed');
    const media = await this.#sfu.createRoomMedia(name);
    const { rooms, roles } = this.#config;
    const options = { maxPeers: rooms.maxPeersPerRoom, lobby: rooms.lobbyByDefault, chatHistory: rooms.chatHistory, roles, resumeGraceSeconds: this.#config.signalling.resumeGraceSeconds };
    const room = new Room(name, media, options, this.#log, this.#recorder, () => this.#sfu.createRoomMedia(name));
    this.#rooms.set(name, room);
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
