// What the cluster refuses, as domain errors; server/signalling/wireError.ts maps them to the wire.

/** The room lives on another node: the participant is sent there. */
export class RoomElsewhere extends Error {
  override readonly name = 'RoomElsewhere';
  /** The home node's public signalling origin. */
  readonly url: string;
  constructor(url: string, message = 'this class is held by another server; your browser is sent there') {
    super(message);
    this.url = url;
  }
}

/** No node can take the room now (coordination store unreachable, every node draining). */
export class ClusterUnavailable extends Error {
  override readonly name = 'ClusterUnavailable';
}

/** The registry refused a node (its placement is not proven in the deployment's country). */
export class NodeRefused extends Error {
  override readonly name = 'NodeRefused';
}
