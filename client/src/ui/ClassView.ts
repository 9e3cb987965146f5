// The class once joined: the video grid, the side panel (lobby, raised hands, participants, chat)
// and the controls. Instructors see the same page with more buttons; the server decides what each
// role may actually do, so hiding a button is only a convenience.
import type { ChatMessage, PeerInfo, RoomPolicy, Role } from '../../../protocol/index.js';
import type { RemoteTrack, RoomClient, RoomClientEvents, RoomState } from '../RoomClient.js';
import { Tile } from './Tile.js';
import { PollPanel } from './PollPanel.js';
import { BreakoutPanel } from './BreakoutPanel.js';
import { Gallery } from './Gallery.js';
import { ParticipantList } from './ParticipantList.js';
import type { ParticipantAction } from './ParticipantMenu.js';
import { wireMoreControls } from './ControlBar.js';
import { RecordingPanel } from './RecordingPanel.js';
import { $, button, setStatus } from './dom.js';

const STATS_INTERVAL_MS = 1000;

/** Quiet time after the last tile resize before tile sizes go to the server. */
const TILE_SIZE_SETTLE_MS = 150;
/**
 * Quiet time after the last change of what is on screen before the view goes to the server again: a
 * join storm or a quick run of page turns is two `setView`s (its first change, at once, and the
 * rest when it settles), not one per tile. The first goes at once because a single change (a camera
 * just started, the first person in) is the common case, and its picture waited for the timer.
 */
const VIEW_SETTLE_MS = 150;

/** Everything shown while in a class. */
export class ClassView {
  readonly #tiles = new Map<string, Tile>();
  readonly #peers = new Map<string, PeerInfo>();
  /** Tracks of people not announced yet: presence is batched, media is not, so media can come first. */
  readonly #early = new Map<string, RemoteTrack[]>();
  #client: RoomClient | undefined;
  #self: { id: string; name: string; role: Role; permissions: Set<string> } | undefined;
  #hands: string[] = [];
  #statsVisible = false;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  readonly #resize = new ResizeObserver((entries) => this.#onResize(entries));
  /** Tile sizes waiting for the layout to settle, and the last size sent per consumer. */
  readonly #tileSizes = new Map<string, { width: number; height: number }>();
  readonly #sentTileSizes = new Map<string, { width: number; height: number }>();
  #tileSizeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #polls = new PollPanel();
  readonly #breakouts = new BreakoutPanel();
  readonly #recording = new RecordingPanel();
  /** Names of everyone seen in this class, kept when they move to another breakout room. */
  readonly #names = new Map<string, string>();
  #group = 'main';
  /** Where every tile's sound plays, on screen or not (audio is not paged). */
  readonly #audioSink = $('audio-out');
  readonly #gallery = new Gallery({
    listener: () => this.#scheduleView(),
    onAttach: (tile) => this.#resize.observe(tile.element),
    onDetach: (tile) => this.#resize.unobserve(tile.element),
  });
  readonly #people = new ParticipantList((error) => setStatus(error.message));
  /** The video producer behind each tile key (a person's camera, `<peer>:screen`), consumed or not. */
  readonly #videoProducers = new Map<string, string>();
  #viewTimer: ReturnType<typeof setTimeout> | undefined;
  #peopleQueued = false;
  /** The producer ids last asked for, most important first. */
  #sentView: string[] | undefined;

  /** Called when the server no longer knows us and the page must join again (set by main.ts). */
  onRejoin: ((reason: string) => void) | undefined;

  /** Handlers for the RoomClient: every change in the room lands here. */
  readonly events: RoomClientEvents = {
    peerJoined: (peer) => this.#upsertPeer(peer),
    peerLeft: (peerId) => this.#removePeer(peerId),
    trackAdded: (track) => this.#addTrack(track),
    trackRemoved: (track) => {
      this.#forgetVideoProducer(track);
      this.#sentTileSizes.delete(track.consumerId);
      this.#tileSizes.delete(track.consumerId);
      const early = this.#early.get(track.peerId);
      if (early) this.#early.set(track.peerId, early.filter((t) => t !== track));
      const tile = this.#tileForTrack(track);
      tile?.removeTrack(track);
      if (track.source === 'screen') this.#dropTile(`${track.peerId}:screen`);
    },
    trackPaused: (track) => this.#tileForTrack(track)?.refresh(),
    disconnected: (reason) => {
      $('reconnecting').hidden = true;
      setStatus(`Disconnected: ${reason}`);
      clearInterval(this.#statsTimer);
    },
    // Never a silent empty grid: say that the class is coming back, and take it away once it has.
    reconnecting: (active) => {
      $('reconnecting').hidden = !active;
      if (!active) setStatus(`${this.#peers.size + 1} in the room`);
      // Back: the server may have lost what we were looking at (a media reset); say it again.
      if (!active) this.#sendView(true);
    },
    rejoinNeeded: (reason) => {
      clearInterval(this.#statsTimer);
      setStatus(`Rejoining: ${reason}`);
      this.onRejoin?.(reason);
    },
    peerUpdated: ({ peer }) => this.#upsertPeer(peer),
    lobbyChanged: ({ waiting }) => this.#renderLobby(waiting),
    roomPolicy: (policy) => this.#renderPolicy(policy),
    moderatorMuted: ({ source, canUnmute }) => {
      const toggle = { microphone: ['toggle-mic', 'Unmute mic'], camera: ['toggle-camera', 'Start camera'], screen: undefined }[source];
      if (toggle) {
        const [id, label] = toggle as [string, string];
        $(id).setAttribute('aria-pressed', 'true');
        $(id).textContent = label;
      }
      setStatus(canUnmute ? `An instructor muted your ${source}.` : `An instructor muted your ${source}. Raise your hand to ask to unmute.`);
    },
    unmuteAllowed: () => setStatus('You may unmute again.'),
    chatMessage: ({ message }) => this.#appendChat(message),
    handQueue: ({ peerIds }) => this.#renderHands(peerIds),
    activeSpeaker: ({ peerId }) => this.#renderSpeaker(peerId),
    pollOpened: ({ poll }) => this.#polls.opened(poll),
    pollClosed: ({ pollId }) => this.#polls.closed(pollId),
    pollResults: (results) => this.#polls.results(results),
    breakoutState: (state) => {
      // Chat is per room: mark where one room's conversation ends and the next begins.
      if (state.group !== this.#group && this.#self) {
        const name = state.groups.find((g) => g.id === state.group)?.name;
        this.#appendNote(name ? `Chat of breakout ${name}` : 'Chat of the main room');
      }
      this.#group = state.group;
      this.#breakouts.state(state);
    },
    breakoutWarning: ({ secondsLeft }) => this.#breakouts.warning(secondsLeft),
    breakoutMessage: (message) => this.#breakouts.message(message),
    recordingState: (state) => this.#recording.state(state),
  };

  /** Show the class for a client that just got in. */
  start(client: RoomClient, self: { name: string; role: Role; permissions: string[] }, state: RoomState, policy: RoomPolicy): void {
    this.#client = client;
    this.#self = { id: client.peerId, name: self.name, role: self.role, permissions: new Set(self.permissions) };
    $('call').hidden = false;
    // The class fills the window: the controls stay at the bottom, the panels scroll inside.
    document.body.classList.add('in-call');
    const own = new Tile(client.peerId, self.name, true);
    this.#tiles.set(client.peerId, own);
    this.#gallery.setOwn(own);
    if (this.can('moderate')) this.#people.actionsFor = (peer) => this.#actionsFor(peer);
    for (const peer of state.peers) this.#upsertPeer(peer);
    for (const message of state.chat) this.#appendChat(message);
    this.#renderHands(state.hands);
    this.#renderSpeaker(state.activeSpeaker);
    this.#renderPolicy(policy);
    this.#wireControls();
    this.#polls.start(client, this.can('poll'));
    this.#breakouts.start(client, {
      canBreakout: this.can('breakout'),
      selfId: client.peerId,
      selfName: self.name,
      people: () => [...this.#peers.values()],
      nameOf: (id) => this.#names.get(id) ?? 'someone',
    });
    this.#recording.start(client, this.can('record'), () => this.#renderPeople());
    this.#renderPeople();
    this.#statsTimer = setInterval(() => {
      // Only what is on screen: numbers of tiles nobody sees are worth no getStats() calls.
      const shown = [own, ...this.#gallery.onScreen.map((key) => this.#tiles.get(key))];
      for (const tile of shown) {
        if (!tile) continue;
        // A track can close between two awaits of one update; the next tick reads the live ones.
        tile.updateStats().catch((error: unknown) => console.debug('stats update skipped', error));
      }
    }, STATS_INTERVAL_MS);
  }

  /** My own tile (camera preview). */
  get ownTile(): Tile | undefined {
    return this.#self ? this.#tiles.get(this.#self.id) : undefined;
  }

  /** Whether I hold a permission (the server checks again). */
  can(permission: string): boolean {
    return this.#self?.permissions.has(permission) ?? false;
  }

  /** Stop timers when leaving. */
  stop(): void {
    clearInterval(this.#statsTimer);
    clearTimeout(this.#viewTimer);
    this.#resize.disconnect();
    this.#gallery.stop();
    this.#polls.stop();
    this.#breakouts.stop();
  }

  #addTrack(track: RemoteTrack): void {
    if (!this.#peers.has(track.peerId)) {
      this.#early.set(track.peerId, [...(this.#early.get(track.peerId) ?? []), track]);
      return;
    }
    this.#attachTrack(track);
  }

  #attachTrack(track: RemoteTrack): void {
    const tile = this.#tileForTrack(track);
    tile?.addTrack(track);
    if (track.track.kind !== 'video') return;
    this.#setVideoProducer(this.#keyOf(track.peerId, track.source), track.producerId);
    // A tile laid out before its video came was measured with no consumer to report the size for,
    // and the picture arriving does not resize it: the server kept the consumer at its top layer
    // (a small window forwarded, and was weighed at, the full camera). Observing afresh reports the
    // size now (ResizeObserver reports an element's size when observing starts).
    if (tile?.element.isConnected) {
      this.#resize.unobserve(tile.element);
      this.#resize.observe(tile.element);
    }
  }

  #keyOf(peerId: string, source: string): string {
    return source === 'screen' ? `${peerId}:screen` : peerId;
  }

  #setVideoProducer(key: string, producerId: string): void {
    if (this.#videoProducers.get(key) === producerId) return;
    this.#videoProducers.set(key, producerId);
    if (this.#gallery.onScreen.includes(key)) this.#scheduleView();
  }

  #forgetVideoProducer(track: RemoteTrack): void {
    const key = this.#keyOf(track.peerId, track.source);
    if (track.track.kind !== 'video' || this.#videoProducers.get(key) !== track.producerId) return;
    this.#videoProducers.delete(key);
    if (this.#gallery.onScreen.includes(key)) this.#scheduleView();
  }

  #scheduleView(): void {
    const quiet = this.#viewTimer === undefined;
    if (quiet) this.#sendView(false);
    else clearTimeout(this.#viewTimer);
    this.#viewTimer = setTimeout(() => this.#sendView(false), VIEW_SETTLE_MS);
  }

  /**
   * Tell the server which video is on screen, most important first; it sends those and pauses the
   * rest. `again`: send even if unchanged (after a reconnect the server may not have it).
   */
  #sendView(again: boolean): void {
    clearTimeout(this.#viewTimer);
    this.#viewTimer = undefined;
    const client = this.#client;
    if (!client || !client.connected) return;
    const video = this.#gallery.onScreen.flatMap((key) => this.#videoProducers.get(key) ?? []);
    if (!again && this.#sentView && video.length === this.#sentView.length && video.every((id, i) => this.#sentView?.[i] === id)) return;
    this.#sentView = video;
    void client.setView(video).catch((error: unknown) => console.debug('view not sent', error));
  }

  #upsertPeer(peer: PeerInfo): void {
    const joined = !this.#peers.has(peer.id);
    this.#peers.set(peer.id, peer);
    this.#names.set(peer.id, peer.displayName);
    if (!this.#tiles.has(peer.id)) this.#addTile(peer.id, new Tile(peer.id, peer.displayName, false, this.#audioSink));
    // Video we may not receive yet (its tile is on another page): known by its producer, so a
    // page turn can ask for it.
    const video = peer.producers.filter((p) => p.kind === 'video');
    for (const producer of video) {
      if (producer.source === 'screen') this.#screenTile(peer.id);
      this.#setVideoProducer(this.#keyOf(peer.id, producer.source), producer.id);
    }
    // Tracks they no longer send (told even to those who never received them).
    if (!video.some((p) => p.source === 'screen')) this.#dropTile(`${peer.id}:screen`);
    if (!video.some((p) => p.source === 'camera') && this.#videoProducers.delete(peer.id) && this.#gallery.onScreen.includes(peer.id)) this.#scheduleView();
    const early = this.#early.get(peer.id);
    this.#early.delete(peer.id);
    for (const track of early ?? []) this.#attachTrack(track);
    this.#renderPeople();
    // Only a newcomer changes the count. An update (someone muted, a camera started) leaves the
    // status alone: after "Mute all" the other students' updates can arrive after a student was told
    // to raise a hand to unmute, and that instruction must stay on screen.
    if (joined) setStatus(`${this.#peers.size + 1} in the room`);
  }

  #removePeer(peerId: string): void {
    this.#peers.delete(peerId);
    this.#early.delete(peerId);
    this.#dropTile(peerId);
    this.#dropTile(`${peerId}:screen`);
    this.#videoProducers.delete(peerId);
    this.#videoProducers.delete(`${peerId}:screen`);
    this.#renderPeople();
    setStatus(`${this.#peers.size + 1} in the room`);
  }

  #addTile(key: string, tile: Tile, screen = false): void {
    tile.statsVisible = this.#statsVisible;
    this.#tiles.set(key, tile);
    this.#gallery.add(key, tile, screen);
  }

  #dropTile(key: string): void {
    const tile = this.#tiles.get(key);
    if (!tile) return;
    this.#gallery.remove(key);
    this.#resize.unobserve(tile.element);
    tile.close();
    this.#tiles.delete(key);
    if (key.endsWith(':screen')) this.#videoProducers.delete(key);
  }

  /** Screen shares get their own tile, so slides are never squeezed into a face-sized box. */
  #tileForTrack(track: RemoteTrack): Tile | undefined {
    if (track.source !== 'screen') return this.#tiles.get(track.peerId);
    return this.#screenTile(track.peerId);
  }

  #screenTile(peerId: string): Tile {
    const key = `${peerId}:screen`;
    let tile = this.#tiles.get(key);
    if (!tile) {
      const name = this.#peers.get(peerId)?.displayName ?? 'Someone';
      tile = new Tile(key, `${name} (screen)`, false, this.#audioSink);
      this.#addTile(key, tile, true);
    }
    return tile;
  }

  #onResize(entries: ResizeObserverEntry[]): void {
    for (const entry of entries) {
      const key = (entry.target as HTMLElement).dataset.peerId;
      const consumerId = key ? this.#tiles.get(key)?.videoConsumerId : undefined;
      if (!consumerId) continue;
      const { width, height } = entry.contentRect;
      this.#tileSizes.set(consumerId, { width: Math.round(width * devicePixelRatio), height: Math.round(height * devicePixelRatio) });
    }
    // While a class fills up, every newcomer re-lays out every tile: send each tile's size once the
    // layout has settled, and only if it changed, instead of a request per tile per newcomer.
    clearTimeout(this.#tileSizeTimer);
    this.#tileSizeTimer = setTimeout(() => this.#sendTileSizes(), TILE_SIZE_SETTLE_MS);
  }

  #sendTileSizes(): void {
    for (const [consumerId, size] of this.#tileSizes) {
      const sent = this.#sentTileSizes.get(consumerId);
      if (!this.#client || (sent && sent.width === size.width && sent.height === size.height)) continue;
      this.#sentTileSizes.set(consumerId, size);
      void this.#client.setTileSize(consumerId, size.width, size.height).catch(() => undefined);
    }
    this.#tileSizes.clear();
  }

  /**
   * Once per task: a presence batch of 500 arrivals calls this 500 times, and each call sorts the
   * whole list.
   */
  #renderPeople(): void {
    if (this.#peopleQueued) return;
    this.#peopleQueued = true;
    queueMicrotask(() => {
      this.#peopleQueued = false;
      this.#drawPeople();
    });
  }

  #drawPeople(): void {
    const self = this.#self;
    const me: PeerInfo[] = self ? [{ id: self.id, displayName: self.name, role: self.role, presenter: false, producers: [] }] : [];
    const recorded = (id: string) => this.#recording.isRecorded(id);
    this.#people.update([
      ...me.map((peer) => ({ peer, self: true, recorded: recorded(peer.id) })),
      ...[...this.#peers.values()].map((peer) => ({ peer, self: false, recorded: recorded(peer.id) })),
    ]);
    const count = this.#peers.size + 1;
    $('class-count').textContent = `${count} in the class`;
    $('people-count').textContent = String(count);
    this.#gallery.presenters = [...this.#peers.values()].filter((p) => p.presenter).map((p) => p.id);
    this.#breakouts.peopleChanged();
  }

  /** What a moderator can do to someone, in their row's menu (the server checks each again). */
  #actionsFor(peer: PeerInfo): ParticipantAction[] {
    const client = this.#client;
    if (!client) return [];
    const current = () => this.#peers.get(peer.id) ?? peer;
    return [
      { label: 'Mute', run: () => client.call('muteParticipant', { peerId: peer.id, source: 'microphone' }) },
      { label: 'Stop camera', run: () => client.call('muteParticipant', { peerId: peer.id, source: 'camera' }) },
      { label: 'Allow unmute', run: () => client.call('allowUnmute', { peerId: peer.id }) },
      current().presenter
        ? { label: 'Revoke presenter', run: () => client.call('setPresenter', { peerId: peer.id, presenter: false }) }
        : { label: 'Make presenter', run: () => client.call('setPresenter', { peerId: peer.id, presenter: true }) },
      { label: 'Remove', run: () => client.call('removeParticipant', { peerId: peer.id }), danger: true },
    ];
  }

  #renderLobby(waiting: { id: string; displayName: string }[]): void {
    $('lobby-panel').hidden = !this.can('admit');
    const client = this.#client;
    $('lobby-list').replaceChildren(
      ...waiting.map((person) => {
        const item = document.createElement('li');
        const who = document.createElement('span');
        who.className = 'who';
        who.textContent = person.displayName;
        item.append(who);
        if (client) {
          item.append(
            button(`Admit ${person.displayName}`, 'Admit', () => client.call('admit', { peerId: person.id })),
            button(`Deny ${person.displayName}`, 'Deny', () => client.call('deny', { peerId: person.id })),
          );
        }
        return item;
      }),
    );
    $('admit-all').hidden = waiting.length === 0;
    if (waiting.length > 0) setStatus(`${waiting.length} waiting in the lobby`);
  }

  #renderHands(peerIds: string[]): void {
    this.#hands = peerIds;
    const client = this.#client;
    $('hand-list').replaceChildren(
      ...peerIds.map((id) => {
        const item = document.createElement('li');
        item.dataset.peerId = id;
        const who = document.createElement('span');
        who.className = 'who';
        who.textContent = id === this.#self?.id ? `${this.#self.name} (you)` : (this.#names.get(id) ?? 'Someone');
        item.append(who);
        if (client && this.can('moderate')) item.append(button(`Lower hand of ${who.textContent}`, 'Lower', () => client.call('lowerHand', { peerId: id })));
        return item;
      }),
    );
    for (const [key, tile] of this.#tiles) {
      const index = peerIds.indexOf(key);
      tile.handPosition = index === -1 ? undefined : index + 1;
    }
    const mine = this.#self ? peerIds.includes(this.#self.id) : false;
    const handButton = $<HTMLButtonElement>('toggle-hand');
    handButton.setAttribute('aria-pressed', String(mine));
    handButton.textContent = mine ? 'Lower hand' : 'Raise hand';
  }

  #renderSpeaker(peerId: string | null): void {
    for (const [key, tile] of this.#tiles) tile.speaking = key === peerId;
    if (peerId !== this.#self?.id) this.#gallery.activeSpeaker = peerId;
  }

  #renderPolicy(policy: RoomPolicy): void {
    const lock = $<HTMLButtonElement>('toggle-lock');
    lock.setAttribute('aria-pressed', String(policy.locked));
    lock.textContent = policy.locked ? 'Unlock room' : 'Lock room';
    const lobby = $<HTMLButtonElement>('toggle-lobby');
    lobby.setAttribute('aria-pressed', String(policy.lobby));
    lobby.textContent = policy.lobby ? 'Turn lobby off' : 'Turn lobby on';
    lock.dataset.locked = String(policy.locked);
    lobby.dataset.lobby = String(policy.lobby);
  }

  #appendChat(message: ChatMessage): void {
    const log = $('chat-log');
    const item = document.createElement('li');
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = message.from.displayName;
    const text = document.createElement('span');
    text.textContent = message.text; // never HTML
    item.append(from, text);
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  #appendNote(text: string): void {
    const item = document.createElement('li');
    item.className = 'note';
    item.textContent = text;
    $('chat-log').append(item);
  }

  #wireControls(): void {
    const client = this.#client;
    if (!client) return;
    const report = (e: Error) => setStatus(e.message);
    wireMoreControls($('call-controls'), $<HTMLButtonElement>('more-controls'));
    $('instructor-controls').hidden = !(this.can('moderate') || this.can('admit') || this.can('endClass'));
    $('lobby-panel').hidden = !this.can('admit');
    $('admit-all').hidden = true;
    $('admit-all').addEventListener('click', () => void client.call('admit', { all: true }).catch(report));
    $('mute-all').addEventListener('click', () => void client.call('muteAll', { allowSelfUnmute: false }).catch(report));
    $('toggle-lock').addEventListener('click', (event) => {
      const locked = (event.currentTarget as HTMLElement).dataset.locked === 'true';
      void client.call('setRoomPolicy', { locked: !locked }).then((p) => this.#renderPolicy(p), report);
    });
    $('toggle-lobby').addEventListener('click', (event) => {
      const lobby = (event.currentTarget as HTMLElement).dataset.lobby === 'true';
      void client.call('setRoomPolicy', { lobby: !lobby }).then((p) => this.#renderPolicy(p), report);
    });
    $('end-class').addEventListener('click', () => {
      if (confirm('End the class for everyone?')) void client.call('endClass', {}).catch(report);
    });
    $('toggle-hand').addEventListener('click', () => {
      const raised = this.#self ? this.#hands.includes(this.#self.id) : false;
      void client.call('raiseHand', { raised: !raised }).catch(report);
    });
    const low = $<HTMLButtonElement>('toggle-low-bandwidth');
    low.addEventListener('click', () => {
      const enabled = low.getAttribute('aria-pressed') !== 'true';
      void client.call('setLowBandwidth', { enabled }).then(() => {
        low.setAttribute('aria-pressed', String(enabled));
        setStatus(enabled ? 'Low bandwidth: audio and slides only' : 'Receiving video again');
      }, report);
    });
    const stats = $<HTMLButtonElement>('toggle-stats');
    stats.addEventListener('click', () => {
      this.#statsVisible = !this.#statsVisible;
      stats.setAttribute('aria-pressed', String(this.#statsVisible));
      for (const tile of this.#tiles.values()) tile.statsVisible = this.#statsVisible;
    });
    const form = $<HTMLFormElement>('chat-form');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $<HTMLInputElement>('chat-input');
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      void client.call('sendChat', { text }).catch(report);
    });
  }
}
