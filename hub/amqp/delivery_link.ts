/**
 * A delivery link (the client receives): module inputs on `/devices/{d}/modules/{m}/messages/
 * events` (annotated `x-opt-input-name`) or C2D on `/devices/{d}/messages/devicebound`
 * (annotated `x-opt-lock-token`). Messages go out within the client's link credit and the hub's
 * in-flight bound; the client's outcome settles them in the store: accepted = complete, rejected
 * = reject (removed), released or modified = abandon (delivered again). Whatever is unsettled
 * when the link ends is released.
 */
import { Buffer } from "node:buffer";
import type { Delivery, Sender } from "rhea";
import type { QueuedMessage } from "../../store/mod.ts";
import type { Deliveries, DeliverySettle, DeliverySink } from "../head_port.ts";
import { amqpFromMessage, sendOn } from "./amqp_message.ts";
import type { Authorized } from "./connection_auth.ts";
import type { LinkHandler, Outcome } from "./link_handler.ts";

const MODULE_INPUT = /^\/modules\/[^/]+\/inputs\/([^/]+)$/;

/** The input name a queued message is delivered on, from its endpoint. */
export function inputNameOf(endpoint: string): string | undefined {
  return MODULE_INPUT.exec(endpoint)?.[1];
}

/** A server sender delivering one identity's inputs or C2D messages. */
export class DeliveryLink implements LinkHandler, DeliverySink {
  readonly key: string;
  readonly #unsettled = new Map<Delivery, DeliverySettle>();
  readonly #deliveries: Deliveries;

  constructor(
    private readonly sender: Sender,
    authorized: Authorized,
    private readonly kind: "inputs" | "c2d",
  ) {
    this.key = authorized.key;
    this.#deliveries = authorized.session.deliver(this);
  }

  room(): number {
    if (!this.sender.is_open() || !this.sender.sendable()) return 0;
    // rhea's typings leave out the sender's credit (the peer's grant minus what was sent).
    return (this.sender as unknown as { credit: number }).credit;
  }

  deliver(queued: QueuedMessage, settle: DeliverySettle): void {
    if (!this.sender.is_open()) {
      settle.release();
      return;
    }
    let delivery: Delivery;
    if (this.kind === "inputs") {
      const inputName = inputNameOf(queued.endpoint);
      const extras = inputName === undefined ? {} : { inputName };
      delivery = sendOn(this.sender, amqpFromMessage(queued.message, extras));
    } else {
      const lockToken = crypto.randomUUID();
      const tag = Buffer.from(lockToken.replaceAll("-", ""), "hex");
      delivery = sendOn(this.sender, amqpFromMessage(queued.message, { lockToken }), tag);
    }
    this.#unsettled.set(delivery, settle);
  }

  onSendable(): void {
    this.#deliveries.wake();
  }

  onOutcome(delivery: Delivery, outcome: Outcome): void {
    const settle = this.#unsettled.get(delivery);
    if (!settle) return;
    this.#unsettled.delete(delivery);
    if (outcome === "accepted") settle.ack();
    else if (outcome === "rejected") settle.reject();
    // Released, modified, or settled with no outcome: the client did not take it.
    else settle.release();
  }

  closed(): void {
    this.#unsettled.clear();
    this.#deliveries.stop();
  }
}
