// Sending a request on to another node of the cluster: the same path and query on that node's
// signalling origin, as the registry records it (every node in it was refused unless placed in the
// country). One rule for GET /moved/<room> and for the recordings another node holds.

/** `pathAndQuery` (a request's URL) on the node whose public signalling origin is `signallingUrl`. */
export function onNode(signallingUrl: string, pathAndQuery: string): string {
  // Parsed against a placeholder, so only its path and query are taken: never a host of its own.
  const asked = new URL(pathAndQuery, 'http://request.invalid');
  const target = new URL(signallingUrl);
  target.pathname = asked.pathname;
  target.search = asked.search;
  target.hash = '';
  return target.href;
}
