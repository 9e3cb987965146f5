// Keeps this participant's TURN credential fresh. coturn checks a credential when a relay is
// allocated, so the one in the transports must still be valid at the next ICE restart: well before
// it expires, ask the server for a new one and hand it to both transports (mediasoup-client's
// updateIceServers; it takes effect at the next gathering, no restart is forced).

/** Renew after this share of the lifetime; the rest is slack for a slow reply or a sleeping laptop. */
const RENEW_AT = 0.8;
const MIN_DELAY_MS = 5_000;

/** What a renewal returns: new servers and how long their credential lasts. */
export interface RenewedIce {
  iceServers: RTCIceServer[];
  iceServersTtlSeconds?: number | undefined;
}

/** Schedules credential renewals until stopped. */
export class IceRenewal {
  readonly #renew: () => Promise<RenewedIce>;
  readonly #apply: (iceServers: RTCIceServer[]) => Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** `renew` asks the server (renewIce); `apply` gives the servers to the transports. */
  constructor(renew: () => Promise<RenewedIce>, apply: (iceServers: RTCIceServer[]) => Promise<void>) {
    this.#renew = renew;
    this.#apply = apply;
  }

  /** Plan the next renewal for a credential lasting `ttlSeconds` from now; nothing without TURN. */
  schedule(ttlSeconds: number | undefined): void {
    if (this.#stopped || ttlSeconds === undefined) return;
    clearTimeout(this.#timer);
    const delay = Math.max(MIN_DELAY_MS, ttlSeconds * 1000 * RENEW_AT);
    this.#timer = setTimeout(() => void this.#run(ttlSeconds), delay);
  }

  /** No more renewals (left, removed, disconnected). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #run(previousTtl: number): Promise<void> {
    try {
      const renewed = await this.#renew();
      if (this.#stopped) return;
      await this.#apply(renewed.iceServers);
      this.schedule(renewed.iceServersTtlSeconds);
    } catch (error) {
      // The socket may be gone (a resume renews on its own) or the server busy: try again in a
      // while rather than never, while the old credential may still be valid.
      console.warn('TURN credential renewal failed; retrying', error);
      if (!this.#stopped) this.schedule(Math.max(MIN_DELAY_MS / 1000, previousTtl * (1 - RENEW_AT)));
    }
  }
}
