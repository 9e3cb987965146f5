// One node of the cluster fan-out (bench/scenarios/clusterFanout.ts), as its own OS process: the
// product's Sfu with one mediasoup worker on a 127.0.0.x address, and the product's cluster parts
// built from a parsed Lectern config exactly as server/app.ts builds them — createCoordinator
// (Redis), ClusterNode (registration and heartbeats), EdgeNode (the signed internal listener,
// EdgeService, edge placement). What it does not run is the signalling server: plain subscribers
// have no signalling, so the bench drives the room over IPC (see homeSide.ts and edgeSide.ts).
// argv: <config JSON> <role: home | edge>
import pino from 'pino';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
import { createCoordinator } from '../../server/cluster/createCoordinator.js';
import { ClusterNode } from '../../server/cluster/ClusterNode.js';
import { EdgeNode } from '../../server/cluster/EdgeNode.js';
import { sfuOptions } from '../../server/sfuOptions.js';
import { HomeSide } from './homeSide.js';
import { EdgeSide } from './edgeSide.js';
import type { NodeReply, NodeRequest } from './nodeProtocol.js';

const [configJson, role] = process.argv.slice(2);
if (!configJson || (role !== 'home' && role !== 'edge')) throw new Error('usage: fanoutNode.ts <config JSON> <home|edge>');
const config = parseConfig(JSON.parse(configJson), 'bench cluster node');
const log = pino({ level: config.log.level });

const sfu = await Sfu.create({ ...sfuOptions(config), respawn: false });
const coordinator = createCoordinator(config);
const edges = EdgeNode.create(config, sfu, coordinator, log);
if (!edges) throw new Error('the bench node needs cluster.internal');
const home = role === 'home' ? await HomeSide.create(sfu, edges) : undefined;
const edge = role === 'edge' ? new EdgeSide(sfu, config.media.listenIp) : undefined;
const cluster = new ClusterNode(
  config,
  coordinator,
  {
    hasRoom: (name) => home?.roomName === name,
    roomNames: () => (home ? [home.roomName] : []),
    participants: () => (home?.subscribers ?? 0) + (edge?.subscribers ?? 0),
    workers: () => sfu.workerCount,
    edgeRoom: () => edges.room,
  },
  log,
);
await edges.start();
// Nothing serves signalling here; the record still names where it would (the schema requires it).
await cluster.start(`http://${config.http.host}:${config.http.port}`);

const handle = async (request: NodeRequest): Promise<NodeReply> => {
  switch (request.op) {
    case 'addSubscribers':
      if (!home) throw new Error('addSubscribers: not the home node');
      return { op: 'added', ...(await home.addSubscribers(request)) };
    case 'addEdgeSubscribers':
      if (!edge) throw new Error('addEdgeSubscribers: not the edge node');
      return { op: 'added', ...(await edge.addSubscribers(request)) };
    case 'resume':
      await (home ?? edge)!.resumeAll();
      return { op: 'ok' };
    case 'state':
      return { op: 'state', ...(home ? await home.state() : { pipes: [], edgeSubscribers: 0 }), edgeRoutersSeen: edge?.routersSeen ?? 0 };
    case 'close':
      await cluster.close();
      await edges.close();
      sfu.close();
      return { op: 'ok' };
  }
};

process.on('message', (message: NodeRequest & { id: number }) => {
  handle(message).then(
    (reply) => process.send!({ ...reply, id: message.id }),
    (error: unknown) => process.send!({ op: 'error', message: (error as Error).stack ?? String(error), id: message.id }),
  );
});
process.send!({ op: 'ready', pid: process.pid, workerPids: sfu.pool.workers.map((w) => w.worker.pid), publisher: home?.publisher });
