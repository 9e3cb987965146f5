// Start `count` jobs, `size` at a time: how the bench's WebRTC subscribers signal to Janus and to
// pion, so neither SFU's signalling is flooded with every subscriber at once.

/** Run `job(i)` for i in 0..count-1, `size` concurrently, each batch finishing before the next starts. */
export async function inBatches(count: number, size: number, job: (index: number) => Promise<unknown>): Promise<void> {
  for (let first = 0; first < count; first += size) {
    const jobs: Promise<unknown>[] = [];
    for (let i = first; i < Math.min(count, first + size); i++) jobs.push(job(i));
    await Promise.all(jobs);
  }
}
