/**
 * The twin link pair (`.../twin`): requests arrive on the server receiver (GET, PATCH reported,
 * PUT/DELETE of desired notifications), replies and desired patches leave on the server sender of
 * the same channel.
 */
import { identityLabel, parseTwinPatch, TwinPatchError } from "../../iothub/mod.ts";
import type { Delivery, Receiver } from "rhea";
import type { Logger } from "../../core/log.ts";
import type { AmqpWireMessage } from "./amqp_message.ts";
import type { Authorized } from "./connection_auth.ts";
import { CreditWindow, type LinkHandler } from "./link_handler.ts";
import type { ReplyLinks } from "./reply_links.ts";
import { desiredPatchMessage, parseTwinRequest, twinReply } from "./twin_messages.ts";

/** Twin requests need few credits: the SDK waits for each reply. */
const TWIN_WINDOW = 16;

/** The server receiver of the twin pair. */
export class TwinRequestLink implements LinkHandler {
  readonly key: string;
  readonly #credit: CreditWindow;
  #unsubscribeDesired: (() => void) | undefined;

  constructor(
    private readonly receiver: Receiver,
    private readonly authorized: Authorized,
    private readonly channel: string,
    private readonly replies: ReplyLinks,
    private readonly logger: Logger,
  ) {
    this.key = authorized.key;
    this.#credit = new CreditWindow(receiver, TWIN_WINDOW);
    this.#credit.open();
  }

  #reply(message: ReturnType<typeof twinReply>): void {
    this.replies.send("twin", this.key, this.channel, message);
  }

  /** A reported patch, answered once it is durable. */
  async #patch(correlationId: string, body: Uint8Array): Promise<void> {
    try {
      const version = await this.authorized.session.patchReported(parseTwinPatch(body));
      this.#reply(twinReply(correlationId, 204, { version }));
    } catch (error) {
      const status = error instanceof TwinPatchError ? error.status : 500;
      this.#reply(
        twinReply(correlationId, status, { body: { message: (error as Error).message } }),
      );
    }
  }

  onMessage(delivery: Delivery, wire: AmqpWireMessage): void {
    this.#credit.received(delivery);
    if (!delivery.remote_settled) {
      delivery.accept();
      this.#credit.settled();
    }
    const request = parseTwinRequest(wire);
    const { session } = this.authorized;
    switch (request.operation) {
      case "GET":
        this.#reply(twinReply(request.correlationId, 200, { body: session.twin() }));
        return;
      case "PATCH":
        this.#patch(request.correlationId, request.body).catch((error) =>
          this.logger.error("a twin answer could not be sent", { error })
        );
        return;
      case "PUT":
        this.#unsubscribeDesired ??= session.onDesired((patch, version) => {
          this.replies.send("twin", this.key, this.channel, desiredPatchMessage(patch, version));
        });
        this.#reply(twinReply(request.correlationId, 200));
        return;
      case "DELETE":
        this.#unsubscribeDesired?.();
        this.#unsubscribeDesired = undefined;
        this.#reply(twinReply(request.correlationId, 200));
        return;
      case "invalid":
        this.logger.warn("twin request refused", {
          client: identityLabel(this.authorized.identity),
          reason: request.reason,
        });
        if (request.correlationId !== undefined) {
          this.#reply(twinReply(request.correlationId, 400, { body: { message: request.reason } }));
        }
    }
  }

  closed(): void {
    this.#unsubscribeDesired?.();
    this.#unsubscribeDesired = undefined;
  }
}
