/**
 * Server sender links that carry replies and pushes for one identity (twin replies and desired
 * patches, method calls), found by the identity and the `com.microsoft:channel-correlation-id`
 * the SDK puts on both links of a pair (`twin:<uuid>`, `methods:<uuid>`). A request whose reply
 * link is not attached yet waits for it (bounded).
 */
import type { AmqpOutgoingMessage } from "./amqp_message.ts";
import type { OutgoingQueue } from "./outgoing_queue.ts";

/** The part of a rhea link that holds the peer's attach frame. */
export interface RemoteAttach {
  remote?: { attach?: { properties?: unknown; source?: unknown; target?: unknown } };
}

const MAX_WAITING = 100;

/** The channel of a link: its correlation-id property, or "" when it has none. */
export function channelOf(link: object): string {
  const properties = (link as RemoteAttach).remote?.attach?.properties as
    | Record<string, unknown>
    | undefined;
  const channel = properties?.["com.microsoft:channel-correlation-id"];
  return typeof channel === "string" ? channel : "";
}

/** Reply links of one connection. */
export class ReplyLinks {
  readonly #links = new Map<string, OutgoingQueue>();
  readonly #waiting = new Map<string, AmqpOutgoingMessage[]>();

  static #slot(kind: string, key: string, channel: string): string {
    return `${kind}\n${key}\n${channel}`;
  }

  /** Registers the reply link of a pair; sends what waited for it. */
  add(kind: string, key: string, channel: string, queue: OutgoingQueue): void {
    const slot = ReplyLinks.#slot(kind, key, channel);
    this.#links.set(slot, queue);
    for (const message of this.#waiting.get(slot) ?? []) queue.send(message);
    this.#waiting.delete(slot);
  }

  /** Removes a reply link (it detached). */
  remove(kind: string, key: string, channel: string, queue: OutgoingQueue): void {
    const slot = ReplyLinks.#slot(kind, key, channel);
    if (this.#links.get(slot) === queue) this.#links.delete(slot);
  }

  /** Sends on the pair's reply link: the same channel, else any of the identity's. */
  send(kind: string, key: string, channel: string, message: AmqpOutgoingMessage): void {
    const slot = ReplyLinks.#slot(kind, key, channel);
    const queue = this.#links.get(slot) ?? this.#any(kind, key);
    if (queue) {
      queue.send(message);
      return;
    }
    const waiting = this.#waiting.get(slot) ?? [];
    if (waiting.length < MAX_WAITING) waiting.push(message);
    this.#waiting.set(slot, waiting);
  }

  #any(kind: string, key: string): OutgoingQueue | undefined {
    const prefix = `${kind}\n${key}\n`;
    for (const [slot, queue] of this.#links) if (slot.startsWith(prefix)) return queue;
    return undefined;
  }

  /** Forgets everything of `key` (the identity was revoked). */
  forget(key: string): void {
    for (const map of [this.#links, this.#waiting] as Map<string, unknown>[]) {
      for (const slot of [...map.keys()]) {
        if (slot.split("\n")[1] === key) map.delete(slot);
      }
    }
  }
}
