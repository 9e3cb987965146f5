// The video area: which tiles are on screen, and how they are laid out. A class of 500 cannot show
// 500 pictures (nor decode them), so the gallery shows one page of tiles at a time, and the speaker
// view shows one large picture and a strip of a few. Only tiles on screen are in the DOM; what is on
// screen is what the server is asked to send (ClassView turns it into a `setView`).
import type { Tile } from './Tile.js';
import { $ } from './dom.js';

/** Largest page: the server sends at most this many video tracks to anyone (rooms.maxVideoConsumers). */
export const MAX_PAGE_SIZE = 25;
/** Page sizes offered in the view options; 'auto' fits the window. */
export const PAGE_SIZES = [4, 9, 16, 25] as const;
/** Tiles in the speaker view's strip, next to the large picture. */
const STRIP_SIZE = 4;
/** Smallest tile worth showing when the page size fits the window (CSS px, 4:3). */
const MIN_TILE_WIDTH = 200;
const TILE_ASPECT = 4 / 3;
const PAGE_SIZE_KEY = 'lectern.pageSize';
const LAYOUT_KEY = 'lectern.layout';

export type Layout = 'gallery' | 'speaker';
export type PageSizeSetting = 'auto' | (typeof PAGE_SIZES)[number];

/** Tiles on screen, most important first, after every change of what is shown. */
export type ViewListener = (onScreen: string[]) => void;

/** What a tile is, for the order of the pages and the choice of the large picture. */
interface Entry {
  key: string;
  tile: Tile;
  /** A shared screen: first on the first page, and the large picture of the speaker view. */
  screen: boolean;
}

/** The paged gallery and the speaker view over the same set of tiles. */
export class Gallery {
  readonly #grid: HTMLElement;
  /** Remote tiles in page order (screens first, then people as they joined). */
  #entries: Entry[] = [];
  #own: Tile | undefined;
  #page = 0;
  #layout: Layout;
  #pageSize: PageSizeSetting;
  /** Speakers, most recent first: the speaker view's large picture and strip. */
  #recentSpeakers: string[] = [];
  #presenters = new Set<string>();
  /** Keys on screen at the last render, in importance order. */
  #onScreen: string[] = [];
  readonly #listener: ViewListener;
  readonly #onAttach: (tile: Tile) => void;
  readonly #onDetach: (tile: Tile) => void;
  // Laid out in the next frame: a layout from inside the observer's callback would resize what it observes.
  readonly #resize = new ResizeObserver(() => requestAnimationFrame(() => this.#render()));
  #renderQueued = false;

  /**
   * `onAttach`/`onDetach` are told when a tile enters or leaves the DOM (to watch its size);
   * `listener` hears the tiles on screen after every change.
   */
  constructor(options: { listener: ViewListener; onAttach: (tile: Tile) => void; onDetach: (tile: Tile) => void }) {
    this.#grid = $('grid');
    this.#listener = options.listener;
    this.#onAttach = options.onAttach;
    this.#onDetach = options.onDetach;
    this.#layout = readSetting(LAYOUT_KEY) === 'speaker' ? 'speaker' : 'gallery';
    const stored = Number(readSetting(PAGE_SIZE_KEY));
    this.#pageSize = (PAGE_SIZES as readonly number[]).includes(stored) ? (stored as PageSizeSetting) : 'auto';
    this.#wireControls();
    this.#resize.observe(this.#grid);
  }

  /** My own picture: on every page (it costs the network nothing), never counted in the page size. */
  setOwn(tile: Tile): void {
    this.#own = tile;
    this.#queueRender();
  }

  /** Add a remote tile (a person, or a shared screen) at the end of the pages; screens go first. */
  add(key: string, tile: Tile, screen = false): void {
    if (this.#entries.some((e) => e.key === key)) return;
    const entry = { key, tile, screen };
    if (screen) {
      const firstPerson = this.#entries.findIndex((e) => !e.screen);
      this.#entries.splice(firstPerson === -1 ? this.#entries.length : firstPerson, 0, entry);
    } else {
      this.#entries.push(entry);
    }
    this.#queueRender();
  }

  /** Take a tile away (they left, or stopped sharing). */
  remove(key: string): void {
    const entry = this.#entries.find((e) => e.key === key);
    if (!entry) return;
    this.#entries = this.#entries.filter((e) => e !== entry);
    this.#recentSpeakers = this.#recentSpeakers.filter((k) => k !== key);
    if (entry.tile.element.isConnected) {
      entry.tile.detached();
      entry.tile.element.remove();
      this.#onDetach(entry.tile);
    }
    this.#queueRender();
  }

  /** Who is speaking now: the speaker view follows them. */
  set activeSpeaker(key: string | null) {
    if (key === null || !this.#entries.some((e) => e.key === key)) return;
    if (this.#recentSpeakers[0] === key) return;
    this.#recentSpeakers = [key, ...this.#recentSpeakers.filter((k) => k !== key)].slice(0, STRIP_SIZE + 1);
    if (this.#layout === 'speaker') this.#queueRender();
  }

  /** Participants an instructor made presenter: the speaker view's large picture when no screen is shared. */
  set presenters(keys: Iterable<string>) {
    const next = new Set(keys);
    const same = next.size === this.#presenters.size && [...next].every((k) => this.#presenters.has(k));
    this.#presenters = next;
    if (!same && this.#layout === 'speaker') this.#queueRender();
  }

  /** Tiles on screen now, most important first. */
  get onScreen(): readonly string[] {
    return this.#onScreen;
  }

  /** Everyone who is not me, on every page (the class count uses the participant list instead). */
  get size(): number {
    return this.#entries.length;
  }

  /** Lay out again now (e.g. after the stage was resized by something the observer cannot see). */
  refresh(): void {
    this.#render();
  }

  /** Stop watching sizes (leaving the class). */
  stop(): void {
    this.#resize.disconnect();
  }

  #queueRender(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    // One layout per task: a join storm adds tiles one by one, and each would move every tile.
    queueMicrotask(() => {
      this.#renderQueued = false;
      this.#render();
    });
  }

  /** Tiles per page now: the setting, or what fits the grid (minus my own tile). */
  #effectivePageSize(): number {
    if (this.#pageSize !== 'auto') return this.#pageSize;
    const { width, height } = this.#grid.getBoundingClientRect();
    const columns = Math.max(1, Math.floor(width / MIN_TILE_WIDTH));
    const rows = Math.max(1, Math.floor(height / (MIN_TILE_WIDTH / TILE_ASPECT)));
    return Math.min(MAX_PAGE_SIZE, Math.max(1, columns * rows - 1));
  }

  #render(): void {
    const size = this.#effectivePageSize();
    const pages = Math.max(1, Math.ceil(this.#entries.length / size));
    this.#page = Math.min(this.#page, pages - 1);
    const shown = this.#layout === 'gallery' ? this.#entries.slice(this.#page * size, (this.#page + 1) * size) : this.#speakerSelection();
    const main = this.#layout === 'speaker' ? shown[0] : undefined;

    const wanted = new Set(shown.map((e) => e.tile));
    if (this.#own) wanted.add(this.#own);
    for (const element of [...this.#grid.children]) {
      const tile = this.#tileOf(element);
      if (!tile || !wanted.has(tile)) {
        tile?.detached();
        element.remove();
        if (tile) this.#onDetach(tile);
      }
    }
    // Own tile first in the gallery; last in the speaker view's strip.
    const order = this.#layout === 'gallery' ? [this.#own, ...shown.map((e) => e.tile)] : [...shown.map((e) => e.tile), this.#own];
    let previous: Element | null = null;
    for (const tile of order) {
      if (!tile) continue;
      const attached = tile.element.isConnected;
      const expected: Element | null = previous ? previous.nextElementSibling : this.#grid.firstElementChild;
      if (expected !== tile.element) this.#grid.insertBefore(tile.element, expected);
      tile.element.classList.toggle('main', main?.tile === tile);
      if (!attached) {
        tile.attached();
        this.#onAttach(tile);
      }
      previous = tile.element;
    }
    this.#size(order.filter((t): t is Tile => t !== undefined).length, main !== undefined);
    this.#renderPager(pages);

    const onScreen = shown.map((e) => e.key);
    if (onScreen.length !== this.#onScreen.length || onScreen.some((k, i) => this.#onScreen[i] !== k)) {
      this.#onScreen = onScreen;
      this.#listener(onScreen);
    }
  }

  /** Speaker view: a shared screen, else a presenter, else the active speaker; then the strip. */
  #speakerSelection(): Entry[] {
    const byKey = new Map(this.#entries.map((e) => [e.key, e]));
    const main =
      this.#entries.find((e) => e.screen) ??
      this.#entries.find((e) => this.#presenters.has(e.key)) ??
      this.#recentSpeakers.map((k) => byKey.get(k)).find((e) => e !== undefined) ??
      this.#entries[0];
    if (!main) return [];
    const strip = [
      ...this.#recentSpeakers.map((k) => byKey.get(k)).filter((e): e is Entry => e !== undefined),
      ...this.#entries,
    ].filter((e, i, all) => e !== main && all.indexOf(e) === i);
    return [main, ...strip.slice(0, STRIP_SIZE)];
  }

  /** Size tiles so the whole page fits the grid without scrolling: the most columns x rows that fit at 4:3. */
  #size(count: number, speaker: boolean): void {
    const style = getComputedStyle(this.#grid);
    const gap = parseFloat(style.columnGap) || 0;
    const width = this.#grid.clientWidth - (parseFloat(style.paddingLeft) || 0) - (parseFloat(style.paddingRight) || 0);
    const height = this.#grid.clientHeight - (parseFloat(style.paddingTop) || 0) - (parseFloat(style.paddingBottom) || 0);
    this.#grid.classList.toggle('speaker', speaker);
    if (width <= 0 || height <= 0 || count === 0) return;
    if (speaker) {
      // The strip takes a fifth of the height; the large picture the rest.
      const strip = Math.max(1, count - 1);
      const stripWidth = Math.min((width - gap * (strip - 1)) / strip, ((height - gap) / 5) * TILE_ASPECT);
      const mainWidth = Math.min(width, (height - gap - stripWidth / TILE_ASPECT) * TILE_ASPECT);
      this.#grid.style.setProperty('--strip', String(strip));
      this.#grid.style.setProperty('--strip-width', `${Math.floor(stripWidth)}px`);
      this.#grid.style.setProperty('--main-width', `${Math.floor(mainWidth)}px`);
      this.#grid.style.gridTemplateColumns = '';
      return;
    }
    let best = { columns: 1, tileWidth: 0 };
    for (let columns = 1; columns <= count; columns++) {
      const rows = Math.ceil(count / columns);
      const tileWidth = Math.min((width - gap * (columns - 1)) / columns, ((height - gap * (rows - 1)) / rows) * TILE_ASPECT);
      if (tileWidth > best.tileWidth) best = { columns, tileWidth };
    }
    this.#grid.style.gridTemplateColumns = `repeat(${best.columns}, ${Math.floor(best.tileWidth)}px)`;
  }

  #renderPager(pages: number): void {
    const label = $('page-label');
    const gallery = this.#layout === 'gallery';
    label.textContent = gallery ? `Page ${this.#page + 1} of ${pages}` : 'Speaker view';
    $<HTMLButtonElement>('page-prev').disabled = !gallery || this.#page === 0;
    $<HTMLButtonElement>('page-next').disabled = !gallery || this.#page >= pages - 1;
    $('pager').hidden = !gallery;
  }

  #tileOf(element: Element): Tile | undefined {
    if (this.#own?.element === element) return this.#own;
    return this.#entries.find((e) => e.tile.element === element)?.tile;
  }

  #wireControls(): void {
    $('page-prev').addEventListener('click', () => this.#turn(-1));
    $('page-next').addEventListener('click', () => this.#turn(1));
    const layout = $<HTMLSelectElement>('layout');
    layout.value = this.#layout;
    layout.addEventListener('change', () => {
      this.#layout = layout.value === 'speaker' ? 'speaker' : 'gallery';
      writeSetting(LAYOUT_KEY, this.#layout);
      this.#render();
    });
    const pageSize = $<HTMLSelectElement>('page-size');
    pageSize.value = String(this.#pageSize);
    pageSize.addEventListener('change', () => {
      // Keep the first tile of this page on screen when pages get bigger or smaller.
      const first = this.#page * this.#effectivePageSize();
      const value = Number(pageSize.value);
      this.#pageSize = (PAGE_SIZES as readonly number[]).includes(value) ? (value as PageSizeSetting) : 'auto';
      writeSetting(PAGE_SIZE_KEY, String(this.#pageSize));
      this.#page = Math.floor(first / this.#effectivePageSize());
      this.#render();
    });
    // The view options open like a menu and close on Escape or a click elsewhere.
    const toggle = $<HTMLButtonElement>('view-options-toggle');
    const panel = $('view-options');
    const show = (open: boolean) => {
      panel.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
    };
    toggle.addEventListener('click', () => show(panel.hidden));
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || panel.hidden) return;
      const within = panel.contains(document.activeElement);
      show(false);
      if (within) toggle.focus();
    });
    document.addEventListener('click', (event) => {
      const target = event.target as Node;
      if (!panel.hidden && !panel.contains(target) && !toggle.contains(target)) show(false);
    });
  }

  #turn(step: number): void {
    this.#page = Math.max(0, this.#page + step);
    this.#render();
  }
}

/** A stored view setting; none where the browser denies storage (an LMS frame). */
function readSetting(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeSetting(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Without storage the setting lasts as long as the page.
  }
}
