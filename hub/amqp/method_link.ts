/**
 * The method link pair (`.../methods/devicebound`): calls leave on the server sender (the client's
 * receiver; while it is attached the identity counts as connected for methods), replies arrive
 * on the server receiver and settle the pending call with the same request id.
 */
import { identityLabel } from "../../iothub/mod.ts";
import type { Delivery, Receiver } from "rhea";
import type { Logger } from "../../core/log.ts";
import type { AmqpWireMessage } from "./amqp_message.ts";
import type { Authorized } from "./connection_auth.ts";
import { CreditWindow, type LinkHandler } from "./link_handler.ts";
import { MethodReplyError, methodRequestMessage, parseMethodReply } from "./method_messages.ts";
import type { OutgoingQueue } from "./outgoing_queue.ts";

const REPLY_WINDOW = 64;

/** The server sender of the method pair: carries calls to the client. */
export class MethodCallLink implements LinkHandler {
  readonly key: string;
  readonly #unsubscribe: () => void;

  constructor(authorized: Authorized, private readonly queue: OutgoingQueue) {
    this.key = authorized.key;
    this.#unsubscribe = authorized.session.onMethodCall((call) => {
      this.queue.send(methodRequestMessage(call.methodName, call.payload, call.rid));
    });
  }

  onSendable(): void {
    this.queue.flush();
  }

  closed(): void {
    this.#unsubscribe();
  }
}

/** The server receiver of the method pair: takes the client's replies. */
export class MethodReplyLink implements LinkHandler {
  readonly key: string;
  readonly #credit: CreditWindow;

  constructor(
    receiver: Receiver,
    private readonly authorized: Authorized,
    private readonly logger: Logger,
  ) {
    this.key = authorized.key;
    this.#credit = new CreditWindow(receiver, REPLY_WINDOW);
    this.#credit.open();
  }

  onMessage(delivery: Delivery, wire: AmqpWireMessage): void {
    this.#credit.received(delivery);
    let error: { condition: string; description: string } | undefined;
    try {
      const reply = parseMethodReply(wire);
      const known = this.authorized.session.settleMethod(reply.rid, {
        status: reply.status,
        payload: reply.payload,
      });
      if (!known) {
        this.logger.debug("method reply for an unknown rid", {
          client: identityLabel(this.authorized.identity),
          rid: reply.rid,
        });
      }
    } catch (caught) {
      if (!(caught instanceof MethodReplyError)) throw caught;
      error = { condition: "com.microsoft:argument-error", description: caught.message };
    }
    if (delivery.remote_settled) return;
    if (error) delivery.reject(error);
    else delivery.accept();
    this.#credit.settled();
  }

  closed(): void {}
}
