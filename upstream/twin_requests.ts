/**
 * Twin requests over one connection to the parent: GET the twin, PATCH reported properties.
 * Each request carries a `$rid`; the answer comes on `$iothub/twin/res/{status}/?$rid=...`.
 */
import { topicQuery } from "../iothub/mod.ts";

/** A twin as GET returns it: desired and reported properties, each with its `$version`. */
export interface TwinDocument {
  desired: Record<string, unknown>;
  reported: Record<string, unknown>;
}

/** The parent answered a twin request with an error status, or not at all. */
export class TwinRequestError extends Error {
  override name = "TwinRequestError";
  /** The parent's status (400, 404, 429, 5xx), or 0 when there was no answer. */
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** Twin requests of one identity. */
export interface TwinRequests {
  /** The full twin. */
  get(): Promise<TwinDocument>;
  /** Applies a reported patch; resolves with the new reported `$version`. */
  patchReported(patch: Record<string, unknown>): Promise<number>;
  /** Takes an incoming message; true when it was a twin response. */
  handle(topic: string, payload: Uint8Array): boolean;
  /** Fails every pending request (the link dropped). */
  failAll(reason: string): void;
}

interface Pending {
  resolve(answer: { status: number; version: number | undefined; body: Uint8Array }): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const RESPONSE = /^\$iothub\/twin\/res\/(\d{3})\/?(\?|$)/;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The twin requests of one connection, matched to their answers by `$rid`. */
class ConnectionTwinRequests implements TwinRequests {
  readonly #publish: (topic: string, payload: Uint8Array) => Promise<void>;
  readonly #label: string;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  #nextRid = 1;

  constructor(
    publish: (topic: string, payload: Uint8Array) => Promise<void>,
    options: { label: string; timeoutMs?: number },
  ) {
    this.#publish = publish;
    this.#label = options.label;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async get(): Promise<TwinDocument> {
    const what = "get the twin";
    const answer = await this.#request(
      what,
      (rid) => `$iothub/twin/GET/?$rid=${rid}`,
      new Uint8Array(),
    );
    if (answer.status !== 200) throw this.#failed(what, answer.status, answer.body);
    let document: unknown;
    try {
      document = JSON.parse(decoder.decode(answer.body));
    } catch (cause) {
      throw new TwinRequestError(`Cannot ${what} of ${this.#label}: the answer is not JSON`, 200, {
        cause,
      });
    }
    const { desired, reported } = (document ?? {}) as Partial<TwinDocument>;
    if (
      typeof desired !== "object" || desired === null || typeof reported !== "object" ||
      reported === null
    ) {
      throw new TwinRequestError(
        `Cannot ${what} of ${this.#label}: the answer has no desired and reported objects`,
        200,
      );
    }
    return { desired, reported };
  }

  async patchReported(patch: Record<string, unknown>): Promise<number> {
    const what = "patch the reported properties";
    const answer = await this.#request(
      what,
      (rid) => `$iothub/twin/PATCH/properties/reported/?$rid=${rid}`,
      encoder.encode(JSON.stringify(patch)),
    );
    if (answer.status < 200 || answer.status > 299) {
      throw this.#failed(what, answer.status, answer.body);
    }
    return answer.version ?? 0;
  }

  handle(topic: string, payload: Uint8Array): boolean {
    const match = RESPONSE.exec(topic);
    if (!match) return false;
    const query = topicQuery(topic);
    const rid = query.get("$rid") ?? "";
    const entry = this.#pending.get(rid);
    if (!entry) return true;
    this.#pending.delete(rid);
    clearTimeout(entry.timer);
    const version = query.get("$version");
    entry.resolve({
      status: Number(match[1]),
      version: version === null ? undefined : Number(version),
      body: payload,
    });
    return true;
  }

  failAll(reason: string): void {
    for (const [rid, entry] of this.#pending) {
      this.#pending.delete(rid);
      clearTimeout(entry.timer);
      entry.reject(
        new TwinRequestError(`Cannot finish a twin request of ${this.#label}: ${reason}`, 0),
      );
    }
  }

  #request(
    what: string,
    topic: (rid: string) => string,
    body: Uint8Array,
  ): Promise<{ status: number; version: number | undefined; body: Uint8Array }> {
    const rid = String(this.#nextRid++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(
          new TwinRequestError(
            `Cannot ${what} of ${this.#label}: no answer from the parent in ${this.#timeoutMs} ms`,
            0,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.set(rid, { resolve, reject, timer });
      this.#publish(topic(rid), body).catch((error: Error) => {
        const entry = this.#pending.get(rid);
        if (!entry) return;
        this.#pending.delete(rid);
        clearTimeout(entry.timer);
        reject(
          new TwinRequestError(`Cannot ${what} of ${this.#label}: ${error.message}`, 0, {
            cause: error,
          }),
        );
      });
    });
  }

  #failed(what: string, status: number, body: Uint8Array): TwinRequestError {
    const text = decoder.decode(body).slice(0, 200);
    return new TwinRequestError(
      `Cannot ${what} of ${this.#label}: the parent answered ${status}${text ? ` ${text}` : ""}`,
      status,
    );
  }
}

/**
 * Creates the twin requests of one connection; `publish` sends on it, `label` names it in errors.
 *
 * @example
 * ```ts
 * const twin = createTwinRequests((topic, body) => connection.publish(topic, body, { qos: 0 }),
 *   { label: "child/$edgeAgent" });
 * const { desired } = await twin.get();
 * ```
 */
export function createTwinRequests(
  publish: (topic: string, payload: Uint8Array) => Promise<void>,
  options: { label: string; timeoutMs?: number },
): TwinRequests {
  return new ConnectionTwinRequests(publish, options);
}
