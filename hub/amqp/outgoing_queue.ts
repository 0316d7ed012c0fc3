/**
 * Control messages (CBS, twin and method replies, desired patches, method calls) sent on a server
 * sender link: rhea's `send` does not wait for link credit, so messages wait here until the link
 * is sendable. Bounded: a client that grants no credit and keeps asking is cut off.
 */
import type { Sender } from "rhea";
import { type AmqpOutgoingMessage, sendOn } from "./amqp_message.ts";

/** Messages waiting for credit on one sender. */
export class OutgoingQueue {
  readonly #waiting: AmqpOutgoingMessage[] = [];

  constructor(
    private readonly sender: Sender,
    private readonly limit: number,
    /** Called once when more than `limit` messages wait. */
    private readonly onOverflow: () => void,
  ) {}

  /** Sends now when the link has credit, else queues. */
  send(message: AmqpOutgoingMessage): void {
    this.#waiting.push(message);
    this.flush();
    if (this.#waiting.length > this.limit) {
      this.#waiting.length = 0;
      this.onOverflow();
    }
  }

  /** Sends what the link's credit allows (call on `sendable`). */
  flush(): void {
    while (this.#waiting.length > 0 && this.sender.is_open() && this.sender.sendable()) {
      sendOn(this.sender, this.#waiting.shift()!);
    }
  }
}
