// The scenario's handle on one node process (fanoutNode.ts): its Lectern config (one worker on its
// own 127.0.0.x, Redis, cluster.internal with the shared secret), the process and its worker, and
// requests over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tests/helpers/redisServer.js';
import { DEPLOYMENT_DE } from '../../tests/helpers/clusterNode.js';
import { waitForExit } from '../lib/proc.js';
import type { Added, AddSubscribers, NodeReply, NodeRequest } from './nodeProtocol.js';

/** What a node is started with. */
export interface FanoutNodeOptions {
  nodeId: string;
  role: 'home' | 'edge';
  /** 127.0.0.x: signalling record, media, pipes and the internal listener all bind it. */
  address: string;
  redisPort: number;
  secretFile: string;
  auditDir: string;
  /** media.capacity.consumersPerWorker (default: the product's). */
  consumersPerWorker?: number;
  /** cluster.internal.edgeSubscribers (default: the product's). */
  edgeSubscribers?: number;
  ioUring: boolean;
}

/** A running node process. */
export class ClusterFanoutNode {
  readonly nodeId: string;
  /** The node's Node.js process. */
  readonly pid: number;
  /** Its mediasoup worker processes. */
  readonly workerPids: number[];
  /** (Home) where the generator sends. */
  readonly publisher: { host: string; port: number } | undefined;
  readonly #child: ChildProcess;
  #nextId = 0;

  /** Fork the node and wait until it has registered in the cluster. */
  static async start(options: FanoutNodeOptions): Promise<ClusterFanoutNode> {
    const [httpPort, rtcPort, internalPort] = [await freePort(options.address), await freePort(options.address), await freePort(options.address)];
    const config = {
      http: { host: options.address, port: httpPort },
      media: {
        workers: 1,
        listenIp: options.address,
        rtcPort,
        ioUring: options.ioUring,
        ...(options.consumersPerWorker !== undefined ? { capacity: { consumersPerWorker: options.consumersPerWorker } } : {}),
      },
      log: { level: 'warn' },
      audit: { dir: options.auditDir },
      deployment: DEPLOYMENT_DE,
      cluster: {
        nodeId: options.nodeId,
        redis: { host: '127.0.0.1', port: options.redisPort },
        // Heartbeat and TTL are the product's defaults: nothing here measures failover (the cluster scenario does).
        placement: { country: 'DE', region: 'eu-central-1', zone: options.role === 'home' ? 'eu-central-1a' : 'eu-central-1b' },
        internal: {
          host: options.address,
          port: internalPort,
          secretFile: options.secretFile,
          ...(options.edgeSubscribers !== undefined ? { edgeSubscribers: options.edgeSubscribers } : {}),
        },
      },
    };
    const child = fork(fileURLToPath(new URL('./fanoutNode.ts', import.meta.url)), [JSON.stringify(config), options.role], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ pid: number; workerPids: number[]; publisher?: { host: string; port: number } }>((resolve, reject) => {
      child.once('message', (m: { op: string; pid: number; workerPids: number[]; publisher?: { host: string; port: number } }) =>
        m.op === 'ready' ? resolve(m) : reject(new Error(`node ${options.nodeId} failed to start`)),
      );
      child.once('exit', (code) => reject(new Error(`node ${options.nodeId} exited (${code}) before it was ready`)));
    });
    return new ClusterFanoutNode(options.nodeId, child, ready);
  }

  private constructor(nodeId: string, child: ChildProcess, ready: { pid: number; workerPids: number[]; publisher?: { host: string; port: number } }) {
    this.nodeId = nodeId;
    this.#child = child;
    this.pid = ready.pid;
    this.workerPids = ready.workerPids;
    this.publisher = ready.publisher;
  }

  #request<R extends NodeReply['op']>(request: NodeRequest, expect: R): Promise<Extract<NodeReply, { op: R }>> {
    const child = this.#child;
    return new Promise((resolve, reject) => {
      const id = ++this.#nextId;
      const onMessage = (message: NodeReply & { id?: number }) => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (message.op === 'error') reject(new Error(`node ${this.nodeId}: ${request.op}: ${message.message}`));
        else if (message.op !== expect) reject(new Error(`node ${this.nodeId}: ${request.op}: unexpected reply ${message.op}`));
        else resolve(message as Extract<NodeReply, { op: R }>);
      };
      const onExit = () => {
        child.off('message', onMessage);
        reject(new Error(`node ${this.nodeId} exited before answering '${request.op}'`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...request, id });
    });
  }

  /** Add plain SRTP subscribers (home: through admission, then the product's edge placement; edge: on its edge room). */
  add(request: AddSubscribers): Promise<Added> {
    return this.#request(request, 'added');
  }

  /** Let every subscription of this node flow. */
  async resume(): Promise<void> {
    await this.#request({ op: 'resume' }, 'ok');
  }

  /** Pipes (home) and edge rooms seen (edge). */
  state(): Promise<Extract<NodeReply, { op: 'state' }>> {
    return this.#request({ op: 'state' }, 'state');
  }

  /** Close everything in the node, then make sure the process and its worker are gone. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) await Promise.race([this.#request({ op: 'close' }, 'ok').catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
    await Promise.all([this.pid, ...this.workerPids].map((pid) => waitForExit(pid)));
  }
}
