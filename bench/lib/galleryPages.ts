// Which cameras each participant of the class scenario shows on their gallery page. A page holds up
// to `pageSize` tiles: the instructor's camera first (what every student keeps on screen), then the
// other cameras, each participant starting at a different one so that, with more cameras than a page
// holds, every camera is on somebody's page. Nobody's page shows their own camera (the page's
// self-view is local, never a consumer).

/** A participant's name and the id of their camera producer, if they send one. */
export type Camera = { name: string; videoProducerId: string | undefined };

/**
 * The page of each participant, by name: video producer ids, at most `pageSize`. `instructor` names
 * the participant whose camera leads every page.
 */
export function galleryPages(participants: Camera[], instructor: string, pageSize: number): Record<string, string[]> {
  const lead = participants.find((p) => p.name === instructor)?.videoProducerId;
  const others = participants.filter((p) => p.name !== instructor && p.videoProducerId).map((p) => p.videoProducerId!);
  const pages: Record<string, string[]> = {};
  participants.forEach((p, i) => {
    const rotated = others.length ? [...others.slice(i % others.length), ...others.slice(0, i % others.length)] : [];
    const candidates = [...(lead ? [lead] : []), ...rotated].filter((id) => id !== p.videoProducerId);
    pages[p.name] = candidates.slice(0, pageSize);
  });
  return pages;
}
