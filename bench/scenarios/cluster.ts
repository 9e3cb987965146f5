// A Lectern cluster on this machine: three node processes (server/main.ts, one mediasoup worker
// each) on 127.0.0.2-4, coordinated through a real redis-server, started with the same helpers the
// cluster tests use. Measures signalling joins with and without the redirect to a room's home node,
// how placement spread the rooms, the time from a home node's SIGKILL to the next join succeeding
// on a live node, and how long a SIGTERM drain takes. Prints and records numbers; no pass/fail.
import { startRedis, type TestRedis } from '../../tests/helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../../tests/helpers/clusterNode.js';
import { SignallingClient } from '../../tests/helpers/SignallingClient.js';
import { quantile } from '../lib/stats.js';

/** Options of a cluster run. */
export interface ClusterOptions {
  /** Rooms created, each through the next entry node in turn. */
  rooms: number;
  /** Joins per room measured on each path (direct to the home node, and through another node). */
  joinsPerRoom: number;
  /** Registry TTL of a node (seconds): a SIGKILLed node is dropped after it. */
  ttlSeconds: number;
  heartbeatSeconds: number;
  /** How long a SIGTERMed node keeps answering (with redirects) before it exits. */
  drainSeconds: number;
}

/** Percentiles of a set of samples (ms). */
export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** What one cluster run measured. */
export interface ClusterResult {
  nodes: number;
  rooms: number;
  /** First join of each room (opens it: registry lock, placement, maybe a redirect). */
  create: Spread;
  /** How many first joins were sent on to another node by placement. */
  createRedirected: number;
  /** connect + join on the room's home node. */
  joinDirect: Spread;
  /** connect + join on another node, its `moved` reply, connect + join on the home node. */
  joinRedirected: Spread;
  /** Rooms each node holds after placement (health endpoint), by node id. */
  roomsPerNode: Record<string, number>;
  failover: { ttlSeconds: number; killToJoinMs: number; attempts: number; newHome: string } | null;
  drain: { drainSeconds: number; termToNotifiedMs: number; termToRejoinedMs: number; termToExitMs: number; exitCode: number | null } | null;
  failedJoins: number;
  note: string;
}

const spread = (samples: number[]): Spread => ({ n: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: samples.length ? Math.max(...samples) : Number.NaN });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run the scenario. */
export async function measureCluster(options: ClusterOptions): Promise<ClusterResult> {
  const clients: SignallingClient[] = [];
  let redis: TestRedis | undefined;
  let nodes: ClusterNodeProcess[] = [];
  let failed = 0;
  const connect = async (node: ClusterNodeProcess): Promise<SignallingClient> => {
    const client = await SignallingClient.connect(node.wsUrl);
    clients.push(client);
    return client;
  };
  const byUrl = (url: string): ClusterNodeProcess | undefined => nodes.find((n) => n.url === url);
  /** Join through `entry`, following one redirect as the browser does. */
  const join = async (entry: ClusterNodeProcess, room: string, displayName: string): Promise<{ ms: number; redirected: boolean; client: SignallingClient; home: ClusterNodeProcess } | undefined> => {
    const start = performance.now();
    let client = await connect(entry);
    let reply = await client.send('join', { room, displayName });
    let home = entry;
    let redirected = false;
    if (!reply.ok && reply.error.code === 'moved' && reply.error.redirect) {
      const target = byUrl(reply.error.redirect);
      if (!target) throw new Error(`redirected to an unknown node ${reply.error.redirect}`);
      client.close();
      redirected = true;
      home = target;
      client = await connect(target);
      reply = await client.send('join', { room, displayName });
    }
    if (!reply.ok) {
      failed++;
      client.close();
      return undefined;
    }
    return { ms: performance.now() - start, redirected, client, home };
  };
  try {
    redis = await startRedis();
    const cluster = { heartbeatSeconds: options.heartbeatSeconds, ttlSeconds: options.ttlSeconds, drainSeconds: options.drainSeconds };
    nodes = await Promise.all(
      ['a', 'b', 'c'].map((suffix, i) =>
        startNode({ nodeId: `node-${suffix}`, address: `127.0.0.${2 + i}`, redisPort: redis!.port, placement: { country: 'DE', region: 'eu-central-1', zone: `eu-central-1${suffix}` }, cluster }),
      ),
    );
    // Rooms opened through different entry nodes, one after another (a morning's classes starting).
    const create: number[] = [];
    let createRedirected = 0;
    const homes = new Map<string, ClusterNodeProcess>();
    for (let r = 0; r < options.rooms; r++) {
      const room = `bench-room-${r}`;
      const joined = await join(nodes[r % nodes.length]!, room, `host-${r}`);
      if (!joined) continue;
      create.push(joined.ms);
      if (joined.redirected) createRedirected++;
      homes.set(room, joined.home);
    }
    // Joins into the open rooms: through the home node, and through another node (a redirect).
    const direct: number[] = [];
    const redirected: number[] = [];
    for (let k = 0; k < options.joinsPerRoom; k++) {
      for (const [room, home] of homes) {
        const d = await join(home, room, `direct-${k}`);
        if (d) direct.push(d.ms);
        const other = nodes.find((n) => n !== home && n.process.exitCode === null)!;
        const viaOther = await join(other, room, `via-${k}`);
        if (viaOther?.redirected) redirected.push(viaOther.ms);
        else if (viaOther) direct.push(viaOther.ms);
      }
    }
    const roomsPerNode: Record<string, number> = {};
    for (const node of nodes) roomsPerNode[node.nodeId] = ((await (await fetch(`${node.url}/healthz`)).json()) as { rooms: number }).rooms;

    // SIGKILL the home of the first room; time until a join of that room succeeds on a live node.
    let failover: ClusterResult['failover'] = null;
    const firstRoom = [...homes.keys()][0];
    if (firstRoom) {
      const victim = homes.get(firstRoom)!;
      const survivor = nodes.find((n) => n !== victim)!;
      const killedAt = performance.now();
      await victim.kill('SIGKILL');
      let attempts = 0;
      let done: Awaited<ReturnType<typeof join>>;
      const client = await connect(survivor);
      for (;;) {
        attempts++;
        const reply = await client.send('join', { room: firstRoom, displayName: 'after-kill' });
        if (reply.ok) {
          done = { ms: performance.now() - killedAt, redirected: false, client, home: survivor };
          break;
        }
        if (reply.error.code === 'moved' && reply.error.redirect && byUrl(reply.error.redirect) !== victim) {
          done = await join(byUrl(reply.error.redirect)!, firstRoom, 'after-kill');
          if (done) done.ms = performance.now() - killedAt;
          break;
        }
        if (performance.now() - killedAt > 30_000) break;
        await sleep(100);
      }
      if (done) failover = { ttlSeconds: options.ttlSeconds, killToJoinMs: done.ms, attempts, newHome: done.home.nodeId };
      nodes = nodes.filter((n) => n !== victim);
    }

    // SIGTERM a live node holding a participant: notified, back in on the other node, exited.
    let drain: ClusterResult['drain'] = null;
    if (nodes.length >= 2) {
      const [leaving, staying] = nodes as [ClusterNodeProcess, ClusterNodeProcess];
      const participant = await connect(leaving);
      const room = 'bench-drain-room';
      if ((await participant.send('join', { room, displayName: 'drainee' })).ok) {
        const told = participant.notification('serverDraining');
        const termAt = performance.now();
        leaving.process.kill('SIGTERM');
        await told;
        const notified = performance.now() - termAt;
        let back = await join(leaving, room, 'drainee');
        while (!back && performance.now() - termAt < 30_000) {
          await sleep(100);
          back = await join(staying, room, 'drainee');
        }
        const rejoined = performance.now() - termAt;
        const exit = await leaving.exited;
        drain = { drainSeconds: options.drainSeconds, termToNotifiedMs: notified, termToRejoinedMs: rejoined, termToExitMs: performance.now() - termAt, exitCode: exit.code };
      }
    }
    return {
      nodes: 3,
      rooms: options.rooms,
      create: spread(create),
      createRedirected,
      joinDirect: spread(direct),
      joinRedirected: spread(redirected),
      roomsPerNode,
      failover,
      drain,
      failedJoins: failed,
      note: `3 node processes (1 worker each) on 127.0.0.2-4, redis-server on 127.0.0.1; signalling joins only (no media); heartbeat ${options.heartbeatSeconds} s, TTL ${options.ttlSeconds} s, drain ${options.drainSeconds} s; each join is a fresh WebSocket (connect + join), a redirect adds a second connect + join`,
    };
  } finally {
    for (const client of clients) client.socket.terminate();
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await redis?.kill();
  }
}
