/**
 * SAS tokens the HTTPS device API has verified, so a device that sends the same token with every
 * request (the SDK renews it every 45 minutes) costs one HMAC per token, not per request. An
 * entry counts only for the identity it was verified for, until the token's expiry, and while
 * the security manager says the identity is still current (not removed or re-created).
 */
import { identityKey, type IdentityRef, parseSasToken } from "../../iothub/mod.ts";
import type { HubIdentity } from "../security_port.ts";

interface Entry {
  key: string;
  identity: HubIdentity;
  expiresAtMs: number;
}

/** A bounded cache of verified tokens (the oldest entries go first). */
export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly options: {
      maxEntries: number;
      isCurrent: (identity: HubIdentity) => boolean;
      now?: () => number;
    },
  ) {}

  /** The identity `token` was verified for, when it is still good for `claimed`. */
  get(token: string, claimed: IdentityRef): HubIdentity | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    const now = this.options.now?.() ?? Date.now();
    if (
      entry.key !== identityKey(claimed) || entry.expiresAtMs <= now ||
      !this.options.isCurrent(entry.identity)
    ) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.identity;
  }

  /** Remembers that `token` verified as `identity`. */
  add(token: string, identity: HubIdentity): void {
    let expiresAtMs: number;
    try {
      expiresAtMs = parseSasToken(token).expiry * 1000;
    } catch {
      return;
    }
    this.#entries.delete(token);
    this.#entries.set(token, { key: identityKey(identity), identity, expiresAtMs });
    if (this.#entries.size > this.options.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
