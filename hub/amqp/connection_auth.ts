/**
 * Who one AMQP connection may act as. An identity is authorized by a CBS put-token (a SAS token
 * for its audience; renewed by the next put-token), by SASL PLAIN (username
 * `{d}[/modules/{m}]@sas.{hub}`, password a SAS token) or, when the TLS client presented a
 * certificate, by that certificate on the first link the identity attaches. Each authorized
 * identity holds one hub session; a SAS-authorized one ends when its token expires unrenewed.
 */
import { identityKey, identityLabel, parseSasToken } from "../../iothub/mod.ts";
import type { Logger } from "../../core/log.ts";
import type { FailureLimiter } from "../failure_limiter.ts";
import type { HeadPort, HeadSession } from "../head_port.ts";
import type { HubIdentity, HubSecurity } from "../security_port.ts";
import type { AmqpCounters } from "./amqp_counters.ts";
import { audienceIdentity, CbsRequestError } from "./cbs_messages.ts";
import { hubNameMatches, parseSaslUsername, SaslUsernameError } from "./sasl_plain.ts";

/** An identity this connection may act as. */
export interface Authorized {
  readonly identity: HubIdentity;
  readonly key: string;
  readonly method: "sas" | "x509";
  readonly session: HeadSession;
  /** When the SAS token runs out (ms since the epoch); undefined for X.509. */
  expiresAtMs: number | undefined;
}

/** The outcome of a put-token, as the CBS reply carries it. */
export interface PutTokenOutcome {
  status: number;
  description: string;
}

/** What the connection's auth needs. */
export interface ConnectionAuthOptions {
  port: HeadPort;
  security: HubSecurity;
  limiter: FailureLimiter;
  counters: AmqpCounters;
  logger: Logger;
  /** Remote address (the failure budget's key). */
  source: string;
  /** The TLS client certificate (leaf first), empty without one. */
  peerChain: readonly Uint8Array[];
  /** "amqp" or "amqpws". */
  protocol: string;
  /** Host names a SASL PLAIN hub name may be the first label of. */
  hostnames: readonly string[];
  /** An identity stopped being authorized: close its links with `condition` and `reason`. */
  onRevoked(key: string, reason: string, condition: string): void;
  now?: () => number;
}

// setTimeout fires at once for delays above 2^31-1 ms; longer expiries are re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The identities one connection may act as. */
export class ConnectionAuth {
  readonly #authorized = new Map<string, Authorized>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(private readonly options: ConnectionAuthOptions) {}

  /** How many identities are authorized. */
  get size(): number {
    return this.#authorized.size;
  }

  /** The authorization of `identity` (ids case-insensitive), if any. */
  get(identity: { deviceId: string; moduleId?: string | undefined }): Authorized | undefined {
    return this.#authorized.get(identityKey(identity));
  }

  /**
   * Whether this source spent its failure budget, for `claimed` (the audience, username or
   * identity an attempt names) when it names one (counted as rate-limited).
   */
  blocked(claimed?: string): boolean {
    if (!this.options.limiter.blocked(this.options.source, claimed)) return false;
    this.options.counters.authRateLimited++;
    return true;
  }

  #fail(what: string, reason: string, claimed = what): void {
    this.options.counters.authFailures++;
    this.options.limiter.fail(this.options.source, claimed);
    this.options.logger.warn("amqp authentication refused", {
      source: this.options.source,
      what,
      reason,
    });
  }

  /** Handles a CBS put-token: authorizes (or renews) the identity the audience names. */
  putToken(audience: string, token: string): PutTokenOutcome {
    if (this.blocked(audience)) {
      return { status: 429, description: "too many authentication failures" };
    }
    let claimed;
    try {
      claimed = audienceIdentity(audience);
    } catch (error) {
      if (!(error instanceof CbsRequestError)) throw error;
      this.#fail(audience, error.message);
      return { status: 400, description: error.message };
    }
    const failure = this.#authorizeSas(claimed, token);
    if (failure !== undefined) {
      this.#fail(identityLabel(claimed), failure, audience);
      return { status: 401, description: failure };
    }
    return { status: 200, description: "OK" };
  }

  /** Handles SASL PLAIN; true when the username's identity is authorized by the password. */
  saslPlain(username: string, password: string): boolean {
    if (this.blocked(username)) return false;
    let claim;
    try {
      claim = parseSaslUsername(username);
    } catch (error) {
      if (!(error instanceof SaslUsernameError)) throw error;
      this.#fail(username, error.message);
      return false;
    }
    if (!hubNameMatches(claim.hubName, this.options.hostnames)) {
      this.#fail(username, `hub name ${claim.hubName} is not this hub's`);
      return false;
    }
    const claimed = claim.moduleId === undefined
      ? { deviceId: claim.deviceId }
      : { deviceId: claim.deviceId, moduleId: claim.moduleId };
    const failure = this.#authorizeSas(claimed, password);
    if (failure !== undefined) this.#fail(username, failure);
    return failure === undefined;
  }

  /**
   * Authorizes `claimed` by the TLS client certificate when it has none yet.
   *
   * @returns the authorization, or the reason there is none.
   */
  byCertificate(claimed: { deviceId: string; moduleId?: string }): Authorized | string {
    const existing = this.get(claimed);
    if (existing) return existing;
    if (this.options.peerChain.length === 0) {
      return `${
        identityLabel(claimed)
      } is not authorized on this connection (no CBS token, no certificate)`;
    }
    if (this.blocked(identityLabel(claimed))) return "too many authentication failures";
    const verdict = this.options.security.verifyClientCertificate(this.options.peerChain, claimed);
    if (!verdict.ok || identityKey(verdict.identity) !== identityKey(claimed)) {
      const reason = verdict.ok
        ? `the certificate is for ${identityLabel(verdict.identity)}, not ${identityLabel(claimed)}`
        : verdict.reason;
      this.#fail(identityLabel(claimed), reason);
      return reason;
    }
    return this.#grant(verdict.identity, "x509", undefined);
  }

  #authorizeSas(claimed: { deviceId: string; moduleId?: string }, token: string) {
    if (this.#closed) return "the connection is closing";
    const verdict = this.options.security.verifySasToken(token, claimed);
    if (!verdict.ok) return verdict.reason;
    if (identityKey(verdict.identity) !== identityKey(claimed)) {
      return `the token is for ${identityLabel(verdict.identity)}, not ${identityLabel(claimed)}`;
    }
    const expiresAtMs = parseSasToken(token).expiry * 1000;
    const existing = this.#authorized.get(identityKey(claimed));
    if (existing && existing.method === "sas") {
      existing.expiresAtMs = expiresAtMs;
      this.options.counters.tokenRenewals++;
      this.#arm(existing);
      return undefined;
    }
    this.#grant(verdict.identity, "sas", expiresAtMs);
    return undefined;
  }

  #grant(identity: HubIdentity, method: "sas" | "x509", expiresAtMs: number | undefined) {
    const key = identityKey(identity);
    const session = this.options.port.openSession(identity, {
      protocol: this.options.protocol,
      source: this.options.source,
      // The core ends it: taken over by a newer session, identity removed, hub stopping.
      close: (reason) => this.revoke(key, reason, "amqp:link:detach-forced"),
    });
    const authorized: Authorized = { identity, key, method, session, expiresAtMs };
    this.#authorized.set(key, authorized);
    this.#arm(authorized);
    return authorized;
  }

  #arm(authorized: Authorized): void {
    clearTimeout(this.#timers.get(authorized.key));
    this.#timers.delete(authorized.key);
    if (authorized.expiresAtMs === undefined) return;
    const now = this.options.now?.() ?? Date.now();
    const delay = Math.max(0, authorized.expiresAtMs - now);
    const timer = setTimeout(() => {
      this.#timers.delete(authorized.key);
      const nowAgain = this.options.now?.() ?? Date.now();
      if (authorized.expiresAtMs !== undefined && authorized.expiresAtMs > nowAgain) {
        this.#arm(authorized);
        return;
      }
      this.options.counters.tokenExpiries++;
      this.revoke(authorized.key, "the SAS token expired", "amqp:unauthorized-access");
    }, Math.min(delay, MAX_TIMER_MS));
    this.#timers.set(authorized.key, timer);
  }

  /** Ends an identity's authorization and session; its links are closed with `reason`. */
  revoke(key: string, reason: string, condition: string): void {
    const authorized = this.#authorized.get(key);
    if (!authorized) return;
    this.#authorized.delete(key);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    authorized.session.end();
    this.options.onRevoked(key, reason, condition);
  }

  /** Revokes every identity `removed` says is gone (it was removed from the registry). */
  revokeRemoved(removed: (identity: HubIdentity) => boolean): void {
    for (const authorized of [...this.#authorized.values()]) {
      if (removed(authorized.identity)) {
        this.revoke(authorized.key, "the identity was removed", "amqp:unauthorized-access");
      }
    }
  }

  /** The connection ended: every session ends, no timer is left. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const authorized of this.#authorized.values()) authorized.session.end();
    this.#authorized.clear();
  }
}
