/**
 * The `$cbs` node: put-token requests arrive on the server receiver; each is accepted, checked
 * by the connection's auth, and answered on the `$cbs` server sender with `status-code`.
 */
import type { Delivery, Receiver } from "rhea";
import type { AmqpWireMessage } from "./amqp_message.ts";
import { cbsReply, CbsRequestError, parsePutToken } from "./cbs_messages.ts";
import type { ConnectionAuth } from "./connection_auth.ts";
import { CreditWindow, type LinkHandler } from "./link_handler.ts";
import type { ReplyLinks } from "./reply_links.ts";

const CBS_WINDOW = 16;

/** The server receiver of `$cbs`. */
export class CbsRequestLink implements LinkHandler {
  readonly key = undefined;
  readonly #credit: CreditWindow;

  constructor(
    receiver: Receiver,
    private readonly auth: ConnectionAuth,
    private readonly replies: ReplyLinks,
  ) {
    this.#credit = new CreditWindow(receiver, CBS_WINDOW);
    this.#credit.open();
  }

  onMessage(delivery: Delivery, wire: AmqpWireMessage): void {
    this.#credit.received(delivery);
    if (!delivery.remote_settled) {
      delivery.accept();
      this.#credit.settled();
    }
    let request;
    try {
      request = parsePutToken(wire);
    } catch (error) {
      if (!(error instanceof CbsRequestError)) throw error;
      const messageId = typeof wire.message_id === "string" ? wire.message_id : undefined;
      const replyTo = typeof wire.reply_to === "string" ? wire.reply_to : undefined;
      this.replies.send("cbs", "", "", cbsReply({ messageId, replyTo }, 400, error.message));
      return;
    }
    const outcome = this.auth.putToken(request.audience, request.token);
    this.replies.send("cbs", "", "", cbsReply(request, outcome.status, outcome.description));
  }

  closed(): void {}
}
