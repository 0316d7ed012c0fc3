/**
 * One AMQP connection (TLS or WebSocket): rhea speaks the protocol; this class decides who the
 * connection may act as ({@linkcode ConnectionAuth}), which links it may attach (only the nodes
 * of an authorized identity, else `amqp:unauthorized-access`; unknown nodes `amqp:not-found`),
 * and hands each link to its handler. It guards rhea against oversized frames and messages and
 * closes a connection that authenticates nobody within `connect_timeout_seconds`.
 */
import type { Duplex } from "node:stream";
import rhea, {
  type Container,
  type Delivery,
  type EventContext,
  type Receiver,
  type Sender,
} from "rhea";
import type { Logger } from "../../core/log.ts";
import type { ConnectionInfo } from "../broker.ts";
import type { FailureLimiter } from "../failure_limiter.ts";
import type { HeadPort } from "../head_port.ts";
import type { HubSecurity } from "../security_port.ts";
import type { AmqpCounters } from "./amqp_counters.ts";
import type { AmqpWireMessage } from "./amqp_message.ts";
import { CoalescedSocket } from "./coalesced_socket.ts";
import { ConnectionAuth } from "./connection_auth.ts";
import { createFrameScanner } from "./frame_guard.ts";
import type { LinkHandler, Outcome } from "./link_handler.ts";
import { CreditViolationError } from "./link_handler.ts";
import { openLink } from "./link_factory.ts";
import { ReplyLinks } from "./reply_links.ts";
import { tuneRhea } from "./rhea_tuning.ts";

tuneRhea();

/** Limits of the AMQP head, from `[hub]`. */
export interface AmqpLimits {
  maxMessageBytes: number;
  maxInflight: number;
  connectTimeoutSeconds: number;
  maxFrameBytes: number;
  idleTimeoutMs: number;
}

/** What every connection shares. */
export interface AmqpConnectionContext {
  port: HeadPort;
  security: HubSecurity;
  limiter: FailureLimiter;
  counters: AmqpCounters;
  logger: Logger;
  limits: AmqpLimits;
  /** Host names a SASL PLAIN hub name may be the first label of. */
  hostnames: readonly string[];
}

const OUTCOMES: Outcome[] = ["accepted", "rejected", "released", "modified", "settled"];
// A message spread over frames may exceed the body limit by its properties and encoding.
const MESSAGE_ALLOWANCE = 64 * 1024;

/** rhea keeps the frames of a multi-frame transfer here until the last one arrives. */
interface IncompleteTransfer {
  _incomplete?: { frames?: Uint8Array[] };
}

let connectionCounter = 0;

/** One accepted AMQP connection. */
export class AmqpConnection {
  readonly auth: ConnectionAuth;
  readonly replies = new ReplyLinks();
  readonly #handlers = new Map<Sender | Receiver, LinkHandler>();
  readonly #container: Container;
  readonly #connection;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #destroyTimer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(
    readonly context: AmqpConnectionContext,
    private readonly stream: Duplex,
    readonly info: ConnectionInfo,
    private readonly onEnd: (connection: AmqpConnection) => void,
  ) {
    const { limits } = context;
    this.auth = new ConnectionAuth({
      port: context.port,
      security: context.security,
      limiter: context.limiter,
      counters: context.counters,
      logger: context.logger,
      source: info.source,
      peerChain: info.peerChain,
      protocol: info.listener,
      hostnames: context.hostnames,
      onRevoked: (key, reason, condition) => this.#closeLinksOf(key, reason, condition),
    });
    // A container per connection: SASL PLAIN's callback must know whose connection it checks.
    this.#container = rhea.create_container({
      id: `ledge-${++connectionCounter}`,
      max_frame_size: limits.maxFrameBytes,
      idle_time_out: limits.idleTimeoutMs,
      receiver_options: {
        credit_window: 0,
        autoaccept: false,
        max_message_size: limits.maxMessageBytes + MESSAGE_ALLOWANCE,
      },
    });
    this.#container.sasl_server_mechanisms.enable_anonymous();
    this.#container.sasl_server_mechanisms.enable_plain((username: string, password: string) =>
      this.auth.saslPlain(username, password)
    );
    this.#listen();
    const scanner = createFrameScanner({ maxFrameBytes: limits.maxFrameBytes });
    // Runs before rhea reads the chunk: an oversized frame header ends the connection unbuffered.
    stream.on("data", (chunk: Uint8Array) => {
      const violation = scanner.push(chunk);
      if (violation) this.#violation(violation);
    });
    const socket = new CoalescedSocket(stream, info.source);
    this.#connection = this.#container.create_connection({ id: this.#container.id } as never)
      .accept(socket as never);
    // Runs after rhea read the chunk: a transfer spread over frames may not grow beyond a message.
    stream.on("data", () => this.#checkIncomplete());
    stream.once("close", () => this.#end());
    this.#connectTimer = setTimeout(() => {
      if (this.auth.size > 0 || this.#ended) return;
      this.#close(
        "amqp:unauthorized-access",
        `nothing authenticated within ${limits.connectTimeoutSeconds} s`,
      );
    }, limits.connectTimeoutSeconds * 1000);
  }

  #listen(): void {
    const container = this.#container;
    container.on("receiver_open", (ctx: EventContext) => this.#open(ctx.receiver!, "clientSends"));
    container.on("sender_open", (ctx: EventContext) => this.#open(ctx.sender!, "clientReceives"));
    const closed = (link: Sender | Receiver | undefined) => {
      if (!link) return;
      const handler = this.#handlers.get(link);
      this.#handlers.delete(link);
      handler?.closed();
    };
    container.on("receiver_close", (ctx: EventContext) => closed(ctx.receiver));
    container.on("sender_close", (ctx: EventContext) => closed(ctx.sender));
    // Errors are followed by the close events above; listening keeps rhea from logging them.
    container.on("receiver_error", () => {});
    container.on("sender_error", () => {});
    container.on("session_close", (ctx: EventContext) => {
      for (const link of [...this.#handlers.keys()]) if (link.session === ctx.session) closed(link);
    });
    container.on("connection_close", () => this.#connection.close());
    container.on("disconnected", () => this.#end());
    container.on("protocol_error", (error: unknown) => this.#violation(String(error)));
    container.on("error", (error: unknown) => {
      this.context.logger.debug("amqp connection error", {
        source: this.info.source,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  #open(link: Sender | Receiver, role: "clientSends" | "clientReceives"): void {
    const handler = openLink(this, link, role);
    if (typeof handler === "string") return;
    this.#handlers.set(link, handler);
    // Per-delivery events are taken on the link itself: rhea stops bubbling them there, instead
    // of passing each through the session, the connection and the container.
    if (handler.onMessage) {
      link.on("message", (ctx: EventContext) => this.#message(handler, ctx));
    }
    if (handler.onSendable) link.on("sendable", () => handler.onSendable!());
    if (handler.onOutcome) {
      for (const outcome of OUTCOMES) {
        link.on(
          outcome,
          (ctx: EventContext) => handler.onOutcome!(ctx.delivery as Delivery, outcome),
        );
      }
    }
  }

  #message(handler: LinkHandler, ctx: EventContext): void {
    try {
      handler.onMessage!(ctx.delivery!, ctx.message as AmqpWireMessage);
    } catch (error) {
      if (!(error instanceof CreditViolationError)) throw error;
      this.#violation(error.message, "amqp:link:transfer-limit-exceeded");
    }
  }

  /** Refuses a link: attached, then detached at once with `condition`. */
  refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.context.counters.aclDenials++;
    this.context.logger.warn("amqp link refused", {
      source: this.info.source,
      link: link.name,
      reason: description,
    });
    link.close({ condition, description });
  }

  #closeLinksOf(key: string, reason: string, condition: string): void {
    this.replies.forget(key);
    for (const [link, handler] of [...this.#handlers]) {
      if (handler.key !== key) continue;
      this.#handlers.delete(link);
      handler.closed();
      if (link.is_open()) link.close({ condition, description: reason });
    }
  }

  #checkIncomplete(): void {
    const limit = this.context.limits.maxMessageBytes + MESSAGE_ALLOWANCE;
    for (const link of this.#handlers.keys()) {
      const frames = (link as unknown as IncompleteTransfer)._incomplete?.frames;
      if (!frames) continue;
      const size = frames.reduce((sum, frame) => sum + (frame?.byteLength ?? 0), 0);
      if (size > limit) {
        this.#violation(
          `a transfer of more than ${limit} bytes exceeds hub.max_message_bytes`,
          "amqp:link:message-size-exceeded",
        );
        return;
      }
    }
  }

  #violation(reason: string, condition = "amqp:connection:framing-error"): void {
    if (this.#ended) return;
    this.context.counters.protocolErrors++;
    this.context.logger.warn("amqp connection closed: protocol violation", {
      source: this.info.source,
      reason,
    });
    this.#close(condition, reason);
    this.stream.destroy();
  }

  #close(condition: string, description: string): void {
    if (this.#connection.is_open()) this.#connection.close({ condition, description });
    // A peer that does not answer the close is cut off.
    this.#destroyTimer ??= setTimeout(() => this.stream.destroy(), 1000);
  }

  /** Closes the connection (the hub is stopping). */
  close(reason: string): void {
    this.#close("amqp:connection:forced", reason);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#destroyTimer);
    for (const handler of this.#handlers.values()) handler.closed();
    this.#handlers.clear();
    this.auth.close();
    this.onEnd(this);
  }
}
