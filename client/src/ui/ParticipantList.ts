// The participant list of a class of 500: searchable by name, and virtualised — only the rows in
// view (and a few either side) are in the DOM, each at its place in a list as tall as all of them,
// so scrolling feels like one long list while the page holds a few dozen rows, not 500.
import type { PeerInfo } from '../../../protocol/index.js';
import { ParticipantMenu, type ParticipantAction } from './ParticipantMenu.js';
import { $ } from './dom.js';

/** Height of one row in CSS px (rows are fixed-height so a row's place is its index times this). */
export const ROW_HEIGHT = 40;
/** Rows drawn beyond each edge of the view, so a fast scroll does not show blank space. */
const OVERSCAN = 6;

/** A person in the list: someone in the class, or me. */
export interface ListedPerson {
  peer: PeerInfo;
  self: boolean;
  /** Their tracks go into the recording running now. */
  recorded?: boolean;
}

/** Where the list gets the moderation actions for a person (none: not a moderator). */
export type ActionsFor = (peer: PeerInfo) => ParticipantAction[];

/** The searchable, virtualised participant list. */
export class ParticipantList {
  readonly #viewport = $('people-viewport');
  readonly #list = $('people-list');
  readonly #search = $<HTMLInputElement>('people-search');
  readonly #menu: ParticipantMenu;
  #people: ListedPerson[] = [];
  /** Sorted, then filtered by the search: the rows the list is made of. */
  #rows: ListedPerson[] = [];
  /** Row elements in the DOM, by peer id, reused while they stay in view (keeps focus and the menu's anchor). */
  readonly #drawn = new Map<string, HTMLLIElement>();
  #actionsFor: ActionsFor | undefined;
  #frame: number | undefined;

  constructor(onError: (error: Error) => void) {
    this.#menu = new ParticipantMenu(onError);
    this.#viewport.addEventListener('scroll', () => this.#schedule(), { passive: true });
    this.#search.addEventListener('input', () => {
      this.#filter();
      this.#viewport.scrollTop = 0;
      this.#draw();
    });
    new ResizeObserver(() => this.#schedule()).observe(this.#viewport);
  }

  /** Moderators get a menu per row; others a plain list. */
  set actionsFor(actions: ActionsFor | undefined) {
    this.#actionsFor = actions;
    this.#drawn.clear();
    this.#list.replaceChildren();
    this.#draw();
  }

  /** Everyone in the class now, in any order (the list sorts: instructors, presenters, then by name). */
  update(people: ListedPerson[]): void {
    this.#people = [...people].sort(compare);
    this.#filter();
    // The person whose menu is open left: the menu's actions would act on nobody.
    const open = this.#menu.peerId;
    if (open && !people.some((p) => p.peer.id === open)) this.#menu.close(false);
    this.#draw();
  }

  /** How many rows are in the DOM now (the rest are only a height). */
  get drawnRows(): number {
    return this.#drawn.size;
  }

  #filter(): void {
    const query = normalise(this.#search.value.trim());
    this.#rows = query ? this.#people.filter((p) => normalise(p.peer.displayName).includes(query)) : this.#people;
    const matches = $('people-matches');
    matches.textContent = query ? `${this.#rows.length} of ${this.#people.length} match “${this.#search.value.trim()}”` : '';
    matches.hidden = !query;
  }

  #schedule(): void {
    if (this.#frame !== undefined) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = undefined;
      this.#draw();
    });
  }

  #draw(): void {
    this.#list.style.height = `${this.#rows.length * ROW_HEIGHT}px`;
    const top = this.#viewport.scrollTop;
    // Hidden (a narrow window scrolled elsewhere) the viewport has no height: draw one screenful.
    const height = this.#viewport.clientHeight || ROW_HEIGHT * 10;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.#rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const keep = new Set<string>();
    for (let index = first; index < last; index++) {
      const person = this.#rows[index]!;
      keep.add(person.peer.id);
      let row = this.#drawn.get(person.peer.id);
      if (!row) {
        row = this.#newRow(person);
        this.#drawn.set(person.peer.id, row);
        this.#list.append(row);
      }
      this.#fill(row, person, index);
    }
    for (const [id, row] of this.#drawn) {
      if (keep.has(id)) continue;
      // The open menu's button stays while its menu is open, so focus and the menu do not jump.
      if (this.#menu.peerId === id && this.#rows.some((p) => p.peer.id === id)) continue;
      row.remove();
      this.#drawn.delete(id);
    }
  }

  #newRow(person: ListedPerson): HTMLLIElement {
    const row = document.createElement('li');
    row.dataset.peerId = person.peer.id;
    row.style.height = `${ROW_HEIGHT}px`;
    const who = document.createElement('span');
    who.className = 'who';
    const role = document.createElement('span');
    role.className = 'role';
    row.append(who, role);
    if (this.#actionsFor && !person.self) {
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'more';
      more.textContent = '⋯';
      more.setAttribute('aria-haspopup', 'menu');
      more.setAttribute('aria-expanded', 'false');
      const openMenu = (focus: 'first' | 'last') => {
        const current = this.#rows.find((p) => p.peer.id === row.dataset.peerId);
        if (current && this.#actionsFor) this.#menu.show(more, current.peer.id, current.peer.displayName, this.#actionsFor(current.peer), focus);
      };
      more.addEventListener('click', () => openMenu('first'));
      more.addEventListener('keydown', (event) => {
        if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
        event.preventDefault();
        openMenu(event.key === 'ArrowDown' ? 'first' : 'last');
      });
      row.append(more);
    }
    return row;
  }

  #fill(row: HTMLLIElement, person: ListedPerson, index: number): void {
    const { peer } = person;
    row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    row.setAttribute('aria-setsize', String(this.#rows.length));
    row.setAttribute('aria-posinset', String(index + 1));
    const name = person.self ? `${peer.displayName} (you)` : peer.displayName;
    const who = row.querySelector('.who')!;
    if (who.textContent !== name) who.textContent = name; // textContent: names are never HTML
    const role = row.querySelector('.role')!;
    const roleText = peer.presenter ? `${peer.role}, presenter` : peer.role;
    if (role.textContent !== roleText) role.textContent = roleText;
    const mark = row.querySelector('.recorded');
    if (person.recorded && !mark) {
      const recorded = document.createElement('span');
      recorded.className = 'recorded';
      recorded.textContent = 'recorded';
      role.after(recorded);
    } else if (!person.recorded) mark?.remove();
    if (person.recorded) row.dataset.recorded = 'true';
    else delete row.dataset.recorded;
    row.querySelector('.more')?.setAttribute('aria-label', `Actions for ${peer.displayName}`);
  }
}

const ROLE_ORDER: Record<string, number> = { instructor: 0, student: 1, guest: 2 };

function compare(a: ListedPerson, b: ListedPerson): number {
  return (
    Number(b.self) - Number(a.self) ||
    (ROLE_ORDER[a.peer.role] ?? 9) - (ROLE_ORDER[b.peer.role] ?? 9) ||
    Number(b.peer.presenter) - Number(a.peer.presenter) ||
    a.peer.displayName.localeCompare(b.peer.displayName) ||
    a.peer.id.localeCompare(b.peer.id)
  );
}

/** Case and accents do not matter when looking for someone ("Zoë" is found by "zoe"). */
function normalise(text: string): string {
  return text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLocaleLowerCase();
}
