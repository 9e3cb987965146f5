// The one definition of a node's load: what it reports in the registry, what placement compares,
// and what `lectern_node_load` exports. Participants over capacity: 1 is full.

/** Load of a node with `participants` of `capacity`. */
export function nodeLoad(participants: number, capacity: number): number {
  return capacity > 0 ? participants / capacity : 1;
}
