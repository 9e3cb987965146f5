// This node as an edge for other nodes' rooms: the control channel's handlers. Each (home node,
// room) gets one EdgeRoom here; every call names its room and is applied only to the EdgeRoom of the
// calling node, so one home cannot touch another's media. An edge room with no pipe and no
// subscriber left is closed; so are the rooms of a home node that stopped heartbeating.
import type { FastifyBaseLogger } from 'fastify';
import { SfuError, UNMEASURED, type EdgeRoom, type EdgeRouterState, type ForwardLoad, type MediaLoad, type PipeListen, type Sfu } from '../../sfu/index.js';
import type { EdgeHandlers } from './InternalServer.js';
import { RpcRefusal } from './InternalServer.js';
import type { Coordinator } from './Coordinator.js';

/** The edge rooms this node carries, and what the control channel can do with them. */
export class EdgeService {
  readonly #sfu: Sfu;
  readonly #pipeListen: PipeListen;
  readonly #capacitySubscribers: number;
  readonly #log: FastifyBaseLogger;
  readonly #coordinator: Coordinator;
  readonly #rooms = new Map<string, Promise<EdgeRoom>>();

  constructor(sfu: Sfu, coordinator: Coordinator, pipeListen: PipeListen, capacitySubscribers: number, log: FastifyBaseLogger) {
    this.#sfu = sfu;
    this.#coordinator = coordinator;
    this.#pipeListen = pipeListen;
    this.#capacitySubscribers = capacitySubscribers;
    this.#log = log;
  }

  /** Edge subscribers on this node, for every home. */
  async subscriberCount(): Promise<number> {
    let n = 0;
    for (const pending of this.#rooms.values()) n += (await pending.catch(() => undefined))?.subscriberCount ?? 0;
    return n;
  }

  /** Consumers of the edge subscribers on this node, for every home. */
  async consumerCount(): Promise<number> {
    let n = 0;
    for (const pending of this.#rooms.values()) n += (await pending.catch(() => undefined))?.consumerCount ?? 0;
    return n;
  }

  /** Every router of the edge rooms here, with the home node it serves (no room names: the audit's view). */
  async routers(): Promise<(EdgeRouterState & { home: string })[]> {
    const all: (EdgeRouterState & { home: string })[] = [];
    for (const [key, pending] of this.#rooms) {
      const room = await pending.catch(() => undefined);
      if (!room || room.closed) continue;
      const home = key.split('\u0000')[0]!;
      for (const router of await room.routers().catch(() => [])) all.push({ home, ...router });
    }
    return all;
  }

  /**
   * Edge subscribers this node still takes (what it registers as `edgeRoom`, and homes pick edges
   * by): weighed as admission weighs them, not counted, since a subscriber of a room with 40 cameras
   * weighs 40 times one of a lecture with one. What its workers still fit (their capacity less the
   * students' reserve, less what they hold and are due, as placement counts it, in packets/s, bits/s
   * and consumers) over what one edge subscriber weighs here on average, and never more than
   * cluster.internal.edgeSubscribers.
   */
  async room(): Promise<number> {
    return (await this.#fit()).room;
  }

  /** How many more edge subscribers fit (see room()), and what one weighs: one reading of the subscribers and the load. */
  async #fit(): Promise<{ room: number; one: ForwardLoad }> {
    const subscribers = await this.subscriberCount();
    const bySubscribers = this.#capacitySubscribers - subscribers;
    const load = this.#sfu.load();
    const one = await this.#subscriberWeight(load, subscribers);
    const share = 1 - this.#sfu.capacity.reservedForInstructors;
    const fits = (key: keyof ForwardLoad): number => (load.capacity[key] * share - load.projected[key]) / one[key];
    const byLoad = Math.floor(Math.min(fits('packetRate'), fits('bitrate'), fits('consumers')));
    return { room: Math.max(0, Math.min(bySubscribers, byLoad)), one };
  }

  /**
   * What one more edge subscriber weighs here: the consumers one of the `subscribers` holds on
   * average (one when there is none yet), each at the average of what this node's consumers forward,
   * or as an unmeasured video layer (the conservative default) while nothing here is measured.
   */
  async #subscriberWeight(load: MediaLoad, subscribers: number): Promise<ForwardLoad> {
    const consumers = subscribers > 0 ? Math.max(1, (await this.consumerCount()) / subscribers) : 1;
    const { projected } = load;
    const each = projected.consumers > 0 && projected.packetRate > 0 ? { packetRate: projected.packetRate / projected.consumers, bitrate: projected.bitrate / projected.consumers } : UNMEASURED.video.layer;
    return { packetRate: consumers * each.packetRate, bitrate: consumers * each.bitrate, consumers };
  }

  /** Home nodes with rooms here. */
  homes(): Set<string> {
    return new Set([...this.#rooms.keys()].map((key) => key.split('\u0000')[0]!));
  }

  /** A home node is gone: its pipes are dead, its subscribers reconnect through their (new) home. */
  closeHome(home: string): void {
    for (const [key, pending] of [...this.#rooms]) {
      if (!key.startsWith(`${home}\u0000`)) continue;
      this.#rooms.delete(key);
      void pending.then((room) => room.close(), () => undefined);
    }
  }

  /** Close every edge room. */
  close(): void {
    for (const home of this.homes()) this.closeHome(home);
  }

  /** The handlers of the control channel. */
  handlers(): EdgeHandlers {
    const handlers: EdgeHandlers = {
      reserve: async () => {
        const { room, one } = await this.#fit();
        if (room <= 0) throw new RpcRefusal(409, 'at_capacity', 'this edge node takes no more subscribers');
        // The one admission rule (sfu Capacity.capacityRefusal), for what one more edge subscriber weighs.
        const refusal = this.#sfu.refusal(one, false);
        if (refusal) throw new RpcRefusal(409, 'at_capacity', `this edge node's media workers are full (${refusal.limit})`);
        return {};
      },
      openPipe: async (from, body) => (await this.#room(from, body.room, true)).openPipe(body.pipeId, body.home),
      produce: async (from, body) => {
        await (await this.#room(from, body.room)).produce(body.pipeId, body.track);
        return {};
      },
      trackState: async (from, body) => {
        await (await this.#room(from, body.room)).trackState(body.trackId, body.state);
        return {};
      },
      closePipe: async (from, body) => {
        const room = await this.#room(from, body.room);
        room.closePipe(body.pipeId);
        this.#closeIfIdle(from, body.room, room);
        return {};
      },
      pipes: async (from, body) => ({ pipes: await (await this.#room(from, body.room)).pipes() }),
      routers: async (from, body) => ({ routers: await (await this.#room(from, body.room)).routers() }),
      createTransport: async (from, body) => {
        const info = await (await this.#room(from, body.room, true)).createTransport(body.subscriberId, body.due);
        return { id: info.id, iceParameters: { ...info.iceParameters }, iceCandidates: info.iceCandidates.map((c) => ({ ...c })), dtlsParameters: { ...info.dtlsParameters } };
      },
      connectTransport: async (from, body) => {
        await (await this.#room(from, body.room)).connectTransport(body.transportId, body.dtlsParameters);
        return {};
      },
      restartIce: async (from, body) => ({ iceParameters: { ...(await (await this.#room(from, body.room)).restartIce(body.transportId)) } }),
      consume: async (from, body) => {
        const info = await (await this.#room(from, body.room)).consume(body.transportId, body.trackId, body.rtpCapabilities);
        return { ...info, rtpParameters: { ...info.rtpParameters } };
      },
      consumer: async (from, body) => {
        await (await this.#room(from, body.room)).consumer(body.consumerId, body.action);
        return {};
      },
      preferLayers: async (from, body) => {
        await (await this.#room(from, body.room)).preferLayers(body.consumerId, body.spatialLayer, body.temporalLayer);
        return {};
      },
      closeSubscriber: async (from, body) => {
        const room = await this.#room(from, body.room).catch(() => undefined);
        if (!room) return {};
        room.closeSubscriber(body.subscriberId);
        this.#closeIfIdle(from, body.room, room);
        return {};
      },
    };
    // The media plane's refusals become statuses the calling node maps back (InternalClient).
    for (const name of Object.keys(handlers) as (keyof EdgeHandlers)[]) {
      const handler = handlers[name] as (from: string, body: never) => Promise<unknown>;
      (handlers as Record<string, unknown>)[name] = (from: string, body: never) => handler(from, body).catch((error: unknown) => Promise.reject(mapped(error)));
    }
    return handlers;
  }

  /** The calling home's edge room; made on the first pipe or transport, else 404. */
  async #room(home: string, name: string, create = false): Promise<EdgeRoom> {
    const key = `${home}\u0000${name}`;
    let pending = this.#rooms.get(key);
    if (!pending) {
      if (!create) throw new RpcRefusal(404, 'not_found', `no edge media for room ${name} of node ${home} here`);
      // Residency at this end too: media is taken only from a live node of the in-country registry
      // (the registry drops foreign entries), whatever the caller holds the secret for.
      if (!(await this.#coordinator.node(home).catch(() => undefined))) throw new RpcRefusal(403, 'forbidden', `node ${home} is not a live in-country node of the registry`);
      pending = this.#rooms.get(key); // asked for by a concurrent call meanwhile
      if (!pending) {
        pending = this.#sfu.createEdgeRoom(name, this.#pipeListen);
        this.#rooms.set(key, pending);
        pending.then(
          () => this.#log.info({ home }, 'edge room opened for another node'),
          () => this.#rooms.delete(key),
        );
      }
    }
    try {
      const room = await pending;
      if (room.closed) throw new SfuError('closed', 'edge room closed');
      return room;
    } catch (error) {
      throw mapped(error);
    }
  }

  #closeIfIdle(home: string, name: string, room: EdgeRoom): void {
    if (room.pipeCount > 0 || room.subscriberCount > 0) return;
    room.close();
    this.#rooms.delete(`${home}\u0000${name}`);
    this.#log.info({ home }, 'edge room closed: no pipe and no subscriber left');
  }
}

/** A media-plane refusal as the status the calling node maps back. */
function mapped(error: unknown): unknown {
  if (!(error instanceof SfuError)) return error;
  const status = error.reason === 'not_found' ? 404 : error.reason === 'closed' ? 409 : error.reason === 'unavailable' ? 503 : 400;
  return new RpcRefusal(status, error.reason === 'cannot_consume' ? 'rejected' : error.reason, error.message);
}
