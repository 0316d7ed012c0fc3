/**
 * What the connection asks of each attached link, and the credit window a server receiver keeps:
 * credit is granted by the hub (never by rhea's automatic window, which tops up on receipt), so a
 * client has at most `window` transfers received-but-unsettled plus granted; a transfer beyond the
 * granted credit is a protocol violation.
 */
import type { Delivery, Receiver } from "rhea";
import type { AmqpWireMessage } from "./amqp_message.ts";

/** An outcome the client reported for a delivery the hub sent. */
export type Outcome = "accepted" | "rejected" | "released" | "modified" | "settled";

/** One attached link, as its connection drives it. */
export interface LinkHandler {
  /** The identity key the link belongs to; undefined for `$cbs`. */
  readonly key: string | undefined;
  /** A transfer arrived (server receivers). */
  onMessage?(delivery: Delivery, message: AmqpWireMessage): void;
  /** The link has credit again (server senders). */
  onSendable?(): void;
  /** The client settled or gave an outcome for a delivery (server senders). */
  onOutcome?(delivery: Delivery, outcome: Outcome): void;
  /** The link is gone (either side detached, or the connection ended): release what it holds. */
  closed(): void;
}

/** A transfer arrived with no credit granted. */
export class CreditViolationError extends Error {
  override name = "CreditViolationError";
}

/** The hub-managed credit of one server receiver. */
export class CreditWindow {
  #granted = 0;
  #unsettled = 0;

  constructor(private readonly receiver: Receiver, private readonly window: number) {}

  /** Grants the first window. */
  open(): void {
    this.#topUp(true);
  }

  /**
   * Counts a transfer in.
   *
   * @throws {CreditViolationError} when the client had no credit left.
   */
  received(delivery: Delivery): void {
    if (this.#granted === 0) {
      throw new CreditViolationError("Cannot accept transfer: the link has no credit");
    }
    this.#granted--;
    if (delivery.remote_settled) this.#topUp(false);
    else this.#unsettled++;
  }

  /** Counts an unsettled transfer as settled; grants more once a quarter of the window is free. */
  settled(): void {
    this.#unsettled--;
    this.#topUp(false);
  }

  #topUp(always: boolean): void {
    const free = this.window - this.#granted - this.#unsettled;
    if (free <= 0 || (!always && free < this.window / 4)) return;
    if (!this.receiver.is_open()) return;
    this.#granted += free;
    this.receiver.add_credit(free);
  }
}
