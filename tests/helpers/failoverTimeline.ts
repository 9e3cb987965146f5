// Where the time goes when a class's home node dies under a page (tests/cluster/failover.browser.test.ts
// and the bench's failover scenario): each step of one page, in ms after the kill, read from the
// outside (Playwright's navigation and WebSocket events, and the page's video element), so nothing
// in the product is there for the measurement.
import type { Page } from 'playwright-core';

/** One page's way back into the class, in ms after the kill (undefined: not seen). */
export interface FailoverSteps {
  /** The page left the dead node's origin (its history.back()). */
  wentBack?: number;
  /** The page there had loaded. */
  loaded?: number;
  /** Its `join` went out, and was answered (the last of each, after any `moved` hop). */
  joinSent?: number;
  joinAnswered?: number;
  /** Its first transport was connected (the first `connectTransport` answered). */
  transportConnected?: number;
  /** The first frame of the other person's camera was decoded on the live node, and the tenth. */
  firstFrame?: number;
  tenthFrame?: number;
}

/** Watches one page from the kill of `deadOrigin` until it decodes `sender` again elsewhere. */
export class FailoverTimeline {
  readonly steps: FailoverSteps = {};
  readonly #page: Page;
  readonly #sender: string;
  readonly #deadOrigin: string;
  #t0 = 0;
  readonly #requests = new Map<number, string>();

  /** Attach to `page` (before the kill: navigation and WebSocket events are only seen from then on). */
  constructor(page: Page, sender: string, deadOrigin: string) {
    this.#page = page;
    this.#sender = sender;
    this.#deadOrigin = deadOrigin;
    page.on('framenavigated', (frame) => {
      if (!this.#t0 || frame !== page.mainFrame() || this.steps.wentBack !== undefined) return;
      if (new URL(frame.url()).origin !== deadOrigin) this.steps.wentBack = this.#now();
    });
    page.on('load', () => {
      if (this.#t0 && this.steps.wentBack !== undefined && this.steps.loaded === undefined) this.steps.loaded = this.#now();
    });
    page.on('websocket', (ws) => {
      // The socket to the dead node was opened before this watch: its drop is not seen here.
      if (new URL(ws.url()).origin.replace(/^ws/, 'http') === deadOrigin) return;
      ws.on('framesent', ({ payload }) => this.#frame(String(payload), 'sent'));
      ws.on('framereceived', ({ payload }) => this.#frame(String(payload), 'received'));
    });
  }

  /** The kill happens now. */
  start(): void {
    this.#t0 = Date.now();
  }

  /** Resolves once the page, off the dead origin, has decoded ten frames of `sender` (polled every 50 ms); rejects after `timeoutMs`. */
  async decodingAgain(timeoutMs: number): Promise<FailoverSteps> {
    const deadline = this.#t0 + timeoutMs;
    while (this.steps.tenthFrame === undefined) {
      if (Date.now() > deadline) throw new Error(`not decoding ${this.#sender} again ${timeoutMs} ms after the kill: ${JSON.stringify(this.steps)}`);
      const frames = await this.#framesShown();
      if (frames > 0) this.steps.firstFrame ??= this.#now();
      if (frames >= 10) this.steps.tenthFrame = this.#now();
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.steps;
  }

  /** Frames the video element of `sender`'s tile has shown, on a page that is no longer on the dead node. */
  async #framesShown(): Promise<number> {
    if (this.#page.isClosed() || new URL(this.#page.url()).origin === this.#deadOrigin) return 0;
    return this.#page
      .locator(`.tile[aria-label="${this.#sender}"] video`)
      .evaluate((video: HTMLVideoElement) => video.getVideoPlaybackQuality().totalVideoFrames)
      .catch(() => 0);
  }

  #frame(payload: string, way: 'sent' | 'received'): void {
    if (!this.#t0) return;
    let message: { kind?: unknown; id?: unknown; method?: unknown; ok?: unknown; data?: { direction?: unknown } };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id !== 'number') return;
    if (way === 'sent' && typeof message.method === 'string') {
      this.#requests.set(message.id, message.method);
      if (message.method === 'join') this.steps.joinSent = this.#now();
      return;
    }
    const method = this.#requests.get(message.id);
    if (method === 'join') this.steps.joinAnswered = this.#now();
    if (method === 'connectTransport' && message.ok === true) this.steps.transportConnected ??= this.#now();
  }

  #now(): number {
    return Date.now() - this.#t0;
  }
}
