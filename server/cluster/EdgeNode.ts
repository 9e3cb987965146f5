// Rooms bigger than a node, this node's part: it serves as an edge for other nodes' rooms (the
// internal listener and EdgeService), and as a home it finds an edge for a subscriber its own share
// cannot carry. The residency rule is applied before any pipe opens: an edge is taken only from the
// live, in-country registry, and its placement is checked again here; a node outside the country
// is refused (and kept in `refusedPipes` for the audit), never "probably fine".
import type { FastifyBaseLogger } from 'fastify';
import type { LecternConfig } from '../../config/index.js';
import type { EdgePlace, EdgeRouterState, PipeListen, PipeState, EdgePipeState, Sfu } from '../../sfu/index.js';
import type { Coordinator } from './Coordinator.js';
import type { NodeRecord } from './NodeRecord.js';
import { placementRefusal } from './residency.js';
import { InternalServer } from './InternalServer.js';
import { EdgeFull, InternalClient } from './InternalClient.js';
import { EdgeService } from './EdgeService.js';
import { RpcEdgeLink } from './RpcEdgeLink.js';
import { edgeSettings, type EdgeSettings } from './edgeSettings.js';

/** A pipe this node refused to open, for the audit. */
export interface RefusedPipe {
  to: string;
  country: string;
  reason: string;
}

/** A pipe of one of this node's rooms, both ends with their countries, for the audit. */
export interface PipeFlow {
  from: string;
  to: string;
  fromCountry: string;
  toCountry: string;
  home: PipeState;
  edge: EdgePipeState | undefined;
}

/** One edge router as the audit sees it: the node it runs on, the home whose room it carries, its worker. */
export type EdgeRouterView = EdgeRouterState & { node: string; home: string };

/** This node's edge role and its edge placement as a home. */
export class EdgeNode {
  readonly #config: LecternConfig;
  readonly #nodeId: string;
  readonly #coordinator: Coordinator;
  readonly #log: FastifyBaseLogger;
  readonly #client: InternalClient;
  readonly #secret: string;
  readonly #listen: { host: string; port: number };
  readonly #pipeListen: PipeListen;
  /** Serves other nodes' rooms here. */
  readonly service: EdgeService;
  readonly #links = new Map<string, RpcEdgeLink>();
  readonly #refused: RefusedPipe[] = [];
  #server: InternalServer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #room = 0;
  #subscribers = 0;
  /** Told when an edge node that carries subscribers of this node's rooms is gone. */
  onEdgeLost: (nodeId: string) => void = () => undefined;

  /** The edge part of this node, or undefined without `cluster.internal`. Reads the secret (fails start-up naming the key). */
  static create(config: LecternConfig, sfu: Sfu, coordinator: Coordinator, log: FastifyBaseLogger): EdgeNode | undefined {
    const settings = edgeSettings(config);
    return settings ? new EdgeNode(config, settings, sfu, coordinator, log) : undefined;
  }

  private constructor(config: LecternConfig, settings: EdgeSettings, sfu: Sfu, coordinator: Coordinator, log: FastifyBaseLogger) {
    this.#config = config;
    this.#nodeId = config.cluster!.nodeId;
    this.#coordinator = coordinator;
    this.#log = log;
    this.#secret = settings.secret;
    this.#client = new InternalClient(this.#nodeId, settings.secret);
    this.#listen = settings.listen;
    this.#pipeListen = settings.pipeListen;
    this.service = new EdgeService(sfu, coordinator, settings.pipeListen, settings.capacitySubscribers, log);
    this.#room = settings.capacitySubscribers;
  }

  /** Edge subscribers this node still takes (what it registers as `edgeRoom`). */
  get room(): number {
    return this.#room;
  }

  /** Edge subscribers this node carries for other nodes' rooms (as of the last look). */
  get subscribers(): number {
    return this.#subscribers;
  }

  /** Pipes refused for residency since start. */
  get refusedPipes(): readonly RefusedPipe[] {
    return this.#refused;
  }

  /** Open the internal listener on the private address and start watching the nodes pipes go to. */
  async start(): Promise<void> {
    this.#server = await InternalServer.start({ ...this.#listen, nodeId: this.#nodeId, secret: this.#secret, handlers: this.service.handlers(), logger: this.#log });
    this.#log.info({ internal: this.#server.url }, 'internal cluster listener up (private address)');
    this.#timer = setInterval(() => void this.#watch(), (this.#config.cluster?.heartbeatSeconds ?? 2) * 1000);
    this.#timer.unref();
  }

  /**
   * An edge for one more subscriber of `room`, or undefined when no in-country node has room. Nodes
   * already forwarding the room come first (their pipes are open).
   */
  async place(room: string): Promise<EdgePlace | undefined> {
    const country = this.#config.deployment?.country;
    const all = await this.#coordinator.nodes({ includeRefused: true });
    const forwarding = new Set(await this.#coordinator.forwarders(room));
    const candidates: NodeRecord[] = [];
    for (const node of all) {
      if (node.id === this.#nodeId || node.draining || node.rpcPort === undefined || node.privateAddress === undefined || (node.edgeRoom ?? 0) <= 0) continue;
      // Default deny, before a pipe is opened: the registry filters foreign nodes, and so does this.
      const refusal = placementRefusal(node.placement, country);
      if (refusal) {
        this.#refuse({ to: node.id, country: node.placement.country, reason: refusal });
        continue;
      }
      candidates.push(node);
    }
    candidates.sort((a, b) => Number(forwarding.has(b.id)) - Number(forwarding.has(a.id)) || (b.edgeRoom ?? 0) - (a.edgeRoom ?? 0));
    for (const node of candidates) {
      const link = this.#link(room, node);
      try {
        await this.#client.call(node.id, this.#base(node), 'reserve', { room });
      } catch (error) {
        if (!(error instanceof EdgeFull)) this.#log.warn({ err: error, edge: node.id }, 'edge node did not answer; trying another');
        continue;
      }
      await this.#coordinator.addForwarder(room, node.id);
      return { link, pipeListen: this.#pipeListen };
    }
    return undefined;
  }

  /** Nobody of `room` receives on `nodeId` any more: it is no longer the room's forwarder in the directory. */
  async dropForwarder(room: string, nodeId: string): Promise<void> {
    await this.#coordinator.removeForwarder(room, nodeId).catch((error: unknown) => this.#log.warn({ err: error }, 'could not drop a forwarder from the directory'));
  }

  /** Both ends' countries of the pipes of `pipes` (this node's rooms), for the audit. */
  async flows(pipes: { home: PipeState; edge: EdgePipeState | undefined }[]): Promise<PipeFlow[]> {
    const nodes = new Map((await this.#coordinator.nodes({ includeRefused: true })).map((n) => [n.id, n] as const));
    const fromCountry = this.#config.cluster!.placement.country;
    // A far end not in the registry has no proven country: reported as unknown ('ZZ'), a finding.
    return pipes.map((p) => ({ from: this.#nodeId, to: p.home.edgeNodeId, fromCountry, toCountry: nodes.get(p.home.edgeNodeId)?.placement.country ?? 'ZZ', home: p.home, edge: p.edge }));
  }

  /**
   * Every router on another node that carries one of this node's rooms (asked of each edge over the
   * control channel), and every router this node runs as an edge for others' rooms: where each
   * runs, whose room it is, and how its tracks reach it. For the audit; no room names. An edge that
   * does not answer is left out here and its pipe reports its end unproven (RemotePipe.state).
   */
  async edgeRouters(): Promise<EdgeRouterView[]> {
    const here = (await this.service.routers()).map((r) => ({ node: this.#nodeId, ...r }));
    const far = await Promise.all(
      [...this.#links.values()].map(async (link) => (await link.routers().catch(() => [])).map((r) => ({ node: link.nodeId, home: this.#nodeId, ...r }))),
    );
    return [...here, ...far.flat()];
  }

  /**
   * SIGTERM on an edge: the registry already says draining (no new edge subscribers); the homes move
   * the subscribers here at their next look. Wait for them to go, up to `seconds`.
   */
  async drain(seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline && (await this.service.subscriberCount()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Stop the listener and the edge rooms. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.service.close();
    await this.#server?.close();
  }

  #refuse(refused: RefusedPipe): void {
    if (!this.#refused.some((r) => r.to === refused.to)) this.#refused.push(refused);
    this.#log.error({ edge: refused.to, country: refused.country }, `pipe refused: ${refused.reason}`);
  }

  #base(node: NodeRecord): string {
    const host = node.privateAddress!.includes(':') ? `[${node.privateAddress}]` : node.privateAddress;
    return `http://${host}:${node.rpcPort}`;
  }

  #link(room: string, node: NodeRecord): RpcEdgeLink {
    const key = `${room}\u0000${node.id}`;
    let link = this.#links.get(key);
    if (!link) this.#links.set(key, (link = new RpcEdgeLink(node.id, this.#base(node), room, this.#client)));
    return link;
  }

  /** Homes gone: close their edge rooms here. Edges gone: the rooms here move their subscribers. */
  async #watch(): Promise<void> {
    try {
      this.#subscribers = await this.service.subscriberCount();
      this.#room = await this.service.room();
      for (const home of this.service.homes()) if (!(await this.#coordinator.node(home))) this.service.closeHome(home);
      const edges = new Set([...this.#links.values()].map((l) => l.nodeId));
      for (const edge of edges) {
        // A draining edge (SIGTERM) counts as gone: its subscribers move while it still answers.
        const node = await this.#coordinator.node(edge);
        if (node && !node.draining) continue;
        for (const [key, link] of [...this.#links]) if (link.nodeId === edge) this.#links.delete(key);
        this.#log.warn({ edge, draining: node?.draining === true }, 'edge node gone or draining: its subscribers are moved');
        this.onEdgeLost(edge);
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'edge watch failed (cluster directory unreachable); running pipes go on');
    }
  }
}
