/**
 * The telemetry link (`.../messages/events`, the client sends): each transfer becomes a Message and
 * is ingested; it is settled `accepted` only once it is durable in every queue its routes chose,
 * `rejected` with IoT Hub's error otherwise (a full queue is `device-container-throttled`, which
 * the SDK retries).
 */
import { identityLabel, MessageTooLargeError } from "../../iothub/mod.ts";
import type { Delivery, Receiver } from "rhea";
import type { Logger } from "../../core/log.ts";
import type { Authorized } from "./connection_auth.ts";
import { type AmqpWireMessage, messageFromAmqp } from "./amqp_message.ts";
import { CreditWindow, type LinkHandler } from "./link_handler.ts";

/** The AMQP error a refused ingest is rejected with. */
export function ingestError(error: unknown): { condition: string; description: string } {
  const description = error instanceof Error ? error.message : String(error);
  if (error instanceof MessageTooLargeError) {
    return { condition: "amqp:link:message-size-exceeded", description };
  }
  if (error instanceof Error && error.name === "StoreFullError") {
    return { condition: "com.microsoft:device-container-throttled", description };
  }
  if (error instanceof Error && error.name === "PropertyBagError") {
    return { condition: "com.microsoft:argument-error", description };
  }
  return { condition: "amqp:internal-error", description };
}

/** A server receiver taking telemetry or module outputs from one identity. */
export class EventsLink implements LinkHandler {
  readonly key: string;
  readonly #credit: CreditWindow;

  constructor(
    private readonly receiver: Receiver,
    private readonly authorized: Authorized,
    private readonly options: { maxMessageBytes: number; window: number; logger: Logger },
  ) {
    this.key = authorized.key;
    this.#credit = new CreditWindow(receiver, options.window);
    this.#credit.open();
  }

  onMessage(delivery: Delivery, wire: AmqpWireMessage): void {
    this.#credit.received(delivery);
    // As it arrived: a settlement the client sends later does not make it presettled.
    const presettled = delivery.remote_settled;
    let message;
    try {
      message = messageFromAmqp(wire, {
        sender: this.authorized.identity,
        maxMessageBytes: this.options.maxMessageBytes,
      });
    } catch (error) {
      this.#refused(error);
      this.#settle(delivery, presettled, ingestError(error));
      return;
    }
    // The core logs and counts a refused ingest (full queue, store failure).
    this.authorized.session.ingest(message).then(
      () => this.#settle(delivery, presettled),
      (error) => this.#settle(delivery, presettled, ingestError(error)),
    );
  }

  /** Accepts (no error) or rejects a delivery the client did not send settled. */
  #settle(
    delivery: Delivery,
    presettled: boolean,
    error?: { condition: string; description: string },
  ): void {
    if (presettled) return;
    if (this.receiver.is_open()) {
      if (error) delivery.reject(error);
      else delivery.accept();
    }
    this.#credit.settled();
  }

  #refused(error: unknown): void {
    this.options.logger.warn("message refused", {
      client: identityLabel(this.authorized.identity),
      error: error instanceof Error ? error.message : String(error),
    });
  }

  closed(): void {}
}
