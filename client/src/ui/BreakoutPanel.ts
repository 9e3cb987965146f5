// Breakout rooms in the page: the banner everyone sees while they run (which room, time left, the
// one-minute warning, messages from the instructor) and the instructor's controls (how many rooms,
// random or by hand, duration, visit, broadcast, bring everyone back). The grid itself needs nothing
// special: moving between rooms arrives as ordinary peersLeft/peersJoined and consumer changes.
import type { BreakoutMessage, BreakoutState, PeerInfo } from '../../../protocol/index.js';
import type { RoomClient } from '../RoomClient.js';
import { $, button, setStatus } from './dom.js';

/** What the panel needs from the class view. */
export interface BreakoutContext {
  canBreakout: boolean;
  selfId: string;
  selfName: string;
  /** Everyone visible now (for assigning by hand). */
  people(): PeerInfo[];
  /** A name for anyone seen in this class, even if not visible now. */
  nameOf(peerId: string): string;
}

/** Breakout rooms as one participant sees them. */
export class BreakoutPanel {
  #client: RoomClient | undefined;
  #context: BreakoutContext | undefined;
  #state: BreakoutState | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;

  /** Wire the controls once in the class. */
  start(client: RoomClient, context: BreakoutContext): void {
    this.#client = client;
    this.#context = context;
    $('breakout-panel').hidden = !context.canBreakout;
    const report = (error: Error) => setStatus(error.message);
    $<HTMLFormElement>('breakout-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#startBreakouts().catch(report);
    });
    $('breakout-assignment').addEventListener('change', () => this.peopleChanged());
    $('breakout-rooms').addEventListener('change', () => this.peopleChanged());
    $('breakout-end').addEventListener('click', () => void client.call('endBreakouts', {}).catch(report));
    $('breakout-return').addEventListener('click', () => void client.call('visitBreakout', { group: 'main' }).catch(report));
    $<HTMLFormElement>('breakout-broadcast').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $<HTMLInputElement>('breakout-broadcast-text');
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      void client.call('broadcastToBreakouts', { text }).catch(report);
    });
    if (this.#state) this.state(this.#state);
  }

  /** Breakout rooms started or ended, or this participant moved. */
  state(state: BreakoutState): void {
    const wasIn = this.#state?.group;
    this.#state = state;
    const context = this.#context;
    if (!context) return;
    const banner = $('breakout-banner');
    banner.hidden = !state.active;
    clearInterval(this.#tick);
    if (!state.active) {
      $('breakout-warning').textContent = '';
      $('breakout-messages').replaceChildren();
      if (wasIn && wasIn !== 'main') setStatus('Back in the main room');
    } else {
      const group = state.groups.find((g) => g.id === state.group);
      const visiting = context.canBreakout && group !== undefined;
      $('breakout-where').textContent = group ? `${visiting ? 'Visiting' : 'You are in'} breakout ${group.name}` : 'Main room: breakout rooms are running';
      if (group && wasIn !== state.group) setStatus(`${visiting ? 'Visiting' : 'You are in'} breakout ${group.name}`);
      this.#countdown(state.endsAt);
    }
    $('breakout-form').hidden = state.active;
    $('breakout-running').hidden = !state.active;
    $('breakout-return').hidden = state.group === 'main';
    $('breakout-groups').replaceChildren(
      ...state.groups.map((g) => {
        const item = document.createElement('li');
        const who = document.createElement('span');
        who.className = 'who';
        const names = g.peerIds.map((id) => (id === context.selfId ? 'you' : context.nameOf(id)));
        who.textContent = `${g.name}: ${names.join(', ') || 'nobody'}`;
        item.append(who);
        if (g.id !== state.group) {
          item.append(button(`Visit ${g.name}`, 'Visit', () => this.#client?.call('visitBreakout', { group: g.id })));
        }
        return item;
      }),
    );
  }

  /** Everyone returns to the main room soon. */
  warning(secondsLeft: number): void {
    $('breakout-warning').textContent = `Breakout rooms end in ${secondsLeft} seconds: everyone returns to the main room.`;
  }

  /** A message an instructor broadcast to every room. */
  message(message: BreakoutMessage): void {
    const item = document.createElement('li');
    item.textContent = `${message.from.displayName}: ${message.text}`; // never HTML
    $('breakout-messages').append(item);
    if (!this.#state?.active) {
      // Broadcast with no breakouts running: still show it, in the status line.
      setStatus(item.textContent);
    }
  }

  /** The participant list changed: refresh the by-hand assignment. */
  peopleChanged(): void {
    const context = this.#context;
    if (!context?.canBreakout) return;
    const manual = $<HTMLSelectElement>('breakout-assignment').value === 'manual';
    const list = $('breakout-manual');
    list.hidden = !manual;
    if (!manual) return;
    const rooms = Math.max(1, Math.min(50, Number($<HTMLInputElement>('breakout-rooms').value) || 1));
    const previous = new Map([...list.querySelectorAll<HTMLSelectElement>('select')].map((s) => [s.dataset.peerId ?? '', s.value]));
    // The instructor is listed too (staying in the main room unless put in a room).
    const people = [{ id: context.selfId, displayName: `${context.selfName} (you)` }, ...context.people()];
    list.replaceChildren(
      ...people.map((peer, i) => {
        const item = document.createElement('li');
        const label = document.createElement('label');
        label.htmlFor = `breakout-for-${peer.id}`;
        label.textContent = peer.displayName;
        label.className = 'who';
        const select = document.createElement('select');
        select.id = `breakout-for-${peer.id}`;
        select.dataset.peerId = peer.id;
        select.append(new Option('Main room', 'main'));
        for (let r = 1; r <= rooms; r++) select.append(new Option(`Room ${r}`, String(r)));
        const kept = previous.get(peer.id);
        const spread = i === 0 ? 'main' : String(((i - 1) % rooms) + 1);
        select.value = kept && [...select.options].some((o) => o.value === kept) ? kept : spread;
        item.append(label, select);
        return item;
      }),
    );
  }

  /** Stop the countdown (leaving). */
  stop(): void {
    clearInterval(this.#tick);
  }

  async #startBreakouts(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const rooms = Number($<HTMLInputElement>('breakout-rooms').value);
    const minutes = Number($<HTMLInputElement>('breakout-duration').value);
    const manual = $<HTMLSelectElement>('breakout-assignment').value === 'manual';
    const assignment = manual
      ? [...$('breakout-manual').querySelectorAll<HTMLSelectElement>('select')]
          .filter((s) => s.value !== 'main')
          .map((s) => ({ peerId: s.dataset.peerId ?? '', room: Number(s.value) }))
      : undefined;
    const state = await client.call('startBreakouts', {
      rooms,
      ...(assignment ? { assignment } : {}),
      ...(minutes > 0 ? { durationSeconds: Math.max(1, Math.round(minutes * 60)) } : {}),
    });
    this.state(state);
  }

  #countdown(endsAt: number | null): void {
    const time = $('breakout-time');
    if (endsAt === null) {
      time.textContent = '';
      return;
    }
    const show = () => {
      const left = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
      time.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    };
    show();
    this.#tick = setInterval(show, 1000);
  }
}
