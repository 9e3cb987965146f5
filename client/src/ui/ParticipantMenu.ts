// One menu of moderation actions, opened from a participant's row: a row with five buttons times
// 500 people is 2,500 buttons to tab through; one "Actions for <name>" button per row opens these.
// Follows the WAI-ARIA menu button pattern: arrow keys move, Escape closes and returns focus.

/** One thing a moderator can do to a participant. */
export interface ParticipantAction {
  /** Visible label, e.g. "Remove". */
  label: string;
  run: () => Promise<unknown>;
  danger?: boolean;
}

/** The shared menu element: one in the page, filled for whoever's row opened it. */
export class ParticipantMenu {
  readonly element: HTMLElement;
  #opener: HTMLElement | undefined;
  /** Where the button was when the menu was placed next to it. */
  #anchor = { top: 0, left: 0 };
  #peerId: string | undefined;
  readonly #onError: (error: Error) => void;

  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
    this.element = document.createElement('div');
    this.element.className = 'participant-menu';
    this.element.setAttribute('role', 'menu');
    this.element.hidden = true;
    this.element.addEventListener('keydown', (event) => this.#onKey(event));
    this.element.addEventListener('focusout', (event) => {
      const next = event.relatedTarget as Node | null;
      if (next && !this.element.contains(next) && next !== this.#opener) this.close(false);
    });
    document.addEventListener('click', (event) => {
      const target = event.target as Node;
      if (!this.element.hidden && !this.element.contains(target) && !this.#opener?.contains(target)) this.close(false);
    });
    // Placed by the window: a list or panel scrolling under it would leave it pointing at nobody.
    // Only a scroll that moved its button closes it: other panels re-laying out (a class filling
    // up, the recording state changing) scroll too, and would close it under the mouse.
    document.addEventListener('scroll', (event) => {
      if (this.element.hidden || this.element.contains(event.target as Node) || !this.#opener) return;
      const at = this.#opener.getBoundingClientRect();
      if (!this.#opener.isConnected || Math.abs(at.top - this.#anchor.top) > 1 || Math.abs(at.left - this.#anchor.left) > 1) this.close(false);
    }, { capture: true, passive: true });
    document.body.append(this.element);
  }

  /** Whose actions are showing (undefined: closed). */
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /** Open for `name` next to `opener`, with these actions; opening it again from the same button closes it. */
  show(opener: HTMLElement, peerId: string, name: string, actions: ParticipantAction[], focus: 'first' | 'last' = 'first'): void {
    if (this.#opener === opener && !this.element.hidden) {
      this.close(true);
      return;
    }
    this.close(false);
    this.#opener = opener;
    this.#peerId = peerId;
    this.element.setAttribute('aria-label', `Actions for ${name}`);
    this.element.replaceChildren(
      ...actions.map((action) => {
        const item = document.createElement('button');
        item.type = 'button';
        item.setAttribute('role', 'menuitem');
        item.tabIndex = -1;
        item.textContent = action.label;
        // The full name says whom it acts on ("Remove Ann"), as the row's buttons used to.
        item.setAttribute('aria-label', `${action.label} ${name}`);
        if (action.danger) item.classList.add('danger');
        item.addEventListener('click', () => {
          this.close(true);
          action.run().catch((error: Error) => this.#onError(error));
        });
        return item;
      }),
    );
    opener.setAttribute('aria-expanded', 'true');
    this.element.hidden = false;
    this.#place(opener);
    const items = this.#items();
    (focus === 'first' ? items[0] : items[items.length - 1])?.focus({ preventScroll: true });
  }

  /** Close; `returnFocus` puts the keyboard back on the button that opened it. */
  close(returnFocus: boolean): void {
    if (this.element.hidden) return;
    this.element.hidden = true;
    this.#opener?.setAttribute('aria-expanded', 'false');
    if (returnFocus && this.#opener?.isConnected) this.#opener.focus();
    this.#opener = undefined;
    this.#peerId = undefined;
  }

  /** Below the button, or above it when there is no room below; always inside the window. */
  #place(opener: HTMLElement): void {
    const anchor = opener.getBoundingClientRect();
    this.#anchor = { top: anchor.top, left: anchor.left };
    const menu = this.element.getBoundingClientRect();
    const below = anchor.bottom + menu.height <= window.innerHeight;
    const top = below ? anchor.bottom : Math.max(0, anchor.top - menu.height);
    const left = Math.min(Math.max(0, anchor.right - menu.width), Math.max(0, window.innerWidth - menu.width));
    this.element.style.top = `${Math.round(top)}px`;
    this.element.style.left = `${Math.round(left)}px`;
  }

  #items(): HTMLElement[] {
    return [...this.element.querySelectorAll<HTMLElement>('[role=menuitem]')];
  }

  #onKey(event: KeyboardEvent): void {
    const items = this.#items();
    const index = items.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => items[(to + items.length) % items.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        move(index + 1);
        break;
      case 'ArrowUp':
        move(index - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(items.length - 1);
        break;
      case 'Escape':
        this.close(true);
        break;
      case 'Tab':
        this.close(true);
        return; // let Tab move on from the button
      default:
        return;
    }
    event.preventDefault();
  }
}
