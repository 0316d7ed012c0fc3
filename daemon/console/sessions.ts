/**
 * Who may use the console: one-time login tokens (handed out through the management socket, so
 * only someone who can use the CLI gets one), the sessions they open (a cookie), and each
 * session's CSRF token. Everything is in memory: a restarted daemon asks for a new login.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** How long a login link stays valid. */
export const LOGIN_TTL_MS = 5 * 60_000;
/** A session unused this long ends. */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** A session ends this long after login, used or not. */
export const SESSION_MAX_AGE_MS = 7 * 86400_000;
/** Most sessions (and pending login links) kept; the least recently used go first. */
const MAX_ENTRIES = 32;

/** A signed-in browser. */
export interface ConsoleSession {
  /** The CSRF token every action of this session must carry. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/** Options of {@linkcode ConsoleSessions}; the clock is a test seam. */
export interface ConsoleSessionsOptions {
  now?: () => number;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Maps are keyed by a digest, so a lookup's timing says nothing about a token. */
function digest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function evictOldest<V>(map: Map<string, V>): void {
  while (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}

/** Login tokens and sessions of one console. */
export class ConsoleSessions {
  readonly #now: () => number;
  /** digest(token) -> expiry (ms). */
  readonly #logins = new Map<string, number>();
  /** digest(cookie) -> session, least recently used first. */
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(options: ConsoleSessionsOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** A new one-time login token, valid for {@linkcode LOGIN_TTL_MS}. */
  issueLogin(): { token: string; expiresAt: number } {
    this.#prune();
    evictOldest(this.#logins);
    const token = randomToken();
    const expiresAt = this.#now() + LOGIN_TTL_MS;
    this.#logins.set(digest(token), expiresAt);
    return { token, expiresAt };
  }

  /**
   * Spends a login token: a new session and its cookie value, or undefined when the token is
   * unknown, used or expired.
   */
  redeem(token: string): { cookie: string; session: ConsoleSession } | undefined {
    const key = digest(token);
    const expiresAt = this.#logins.get(key);
    this.#logins.delete(key);
    if (expiresAt === undefined || expiresAt <= this.#now()) return undefined;
    this.#prune();
    evictOldest(this.#sessions);
    const cookie = randomToken();
    const now = this.#now();
    const session: ConsoleSession = { csrf: randomToken(), createdAt: now, lastSeenAt: now };
    this.#sessions.set(digest(cookie), session);
    return { cookie, session };
  }

  /** The live session of a cookie value (and marks it used), or undefined. */
  session(cookie: string | undefined): ConsoleSession | undefined {
    if (!cookie) return undefined;
    const key = digest(cookie);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (
      now - session.lastSeenAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_AGE_MS
    ) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    // Re-inserted: the map stays ordered least recently used first.
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    return session;
  }

  /** Ends the session of a cookie value (sign out). */
  end(cookie: string | undefined): void {
    if (cookie) this.#sessions.delete(digest(cookie));
  }

  /** Number of live sessions. */
  get size(): number {
    this.#prune();
    return this.#sessions.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, expiresAt] of this.#logins) {
      if (expiresAt <= now) this.#logins.delete(key);
    }
    for (const [key, session] of this.#sessions) {
      if (
        now - session.lastSeenAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_MAX_AGE_MS
      ) {
        this.#sessions.delete(key);
      }
    }
  }
}

/** Whether `offered` is the session's CSRF token, compared in constant time. */
export function csrfMatches(session: ConsoleSession, offered: string | undefined): boolean {
  if (typeof offered !== "string") return false;
  const expected = new TextEncoder().encode(session.csrf);
  const given = new TextEncoder().encode(offered);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
