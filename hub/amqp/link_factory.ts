/**
 * Which handler a newly attached link gets: the node its address names, checked against the
 * identities the connection may act as. A refused link is attached and detached at once with
 * IoT Hub's error (`amqp:not-found`, `amqp:unauthorized-access`).
 */
import type { Receiver, Sender } from "rhea";
import type { Logger } from "../../core/log.ts";
import type { AmqpCounters } from "./amqp_counters.ts";
import { CbsRequestLink } from "./cbs_link.ts";
import { DeliveryLink } from "./delivery_link.ts";
import { EventsLink } from "./events_link.ts";
import {
  LinkAddressError,
  type LinkNode,
  type LinkRole,
  parseLinkAddress,
} from "./link_address.ts";
import type { LinkHandler } from "./link_handler.ts";
import type { ConnectionAuth } from "./connection_auth.ts";
import type { ReplyLinks } from "./reply_links.ts";
import { MethodCallLink, MethodReplyLink } from "./method_link.ts";
import { OutgoingQueue } from "./outgoing_queue.ts";
import { channelOf, type RemoteAttach } from "./reply_links.ts";

/** What opening a link needs of its connection. */
export interface LinkHost {
  readonly auth: ConnectionAuth;
  readonly replies: ReplyLinks;
  readonly context: {
    counters: AmqpCounters;
    logger: Logger;
    limits: { maxMessageBytes: number; maxInflight: number };
  };
  /** Attaches and at once detaches `link` with the error. */
  refuse(link: Sender | Receiver, condition: string, description: string): void;
}
import { TwinRequestLink } from "./twin_link.ts";

/** Control messages one reply link may hold while the client grants no credit. */
const MAX_WAITING_REPLIES = 1000;

function terminusAddress(terminus: unknown): string | undefined {
  const address = (terminus as { address?: unknown } | undefined)?.address;
  return typeof address === "string" ? address : undefined;
}

/** A server sender carrying one pair's replies (CBS, twin). */
class ReplyLink implements LinkHandler {
  constructor(
    readonly key: string | undefined,
    private readonly queue: OutgoingQueue,
    private readonly onClosed: () => void,
  ) {}

  onSendable(): void {
    this.queue.flush();
  }

  closed(): void {
    this.onClosed();
  }
}

function replyQueue(connection: LinkHost, sender: Sender): OutgoingQueue {
  return new OutgoingQueue(sender, MAX_WAITING_REPLIES, () => {
    sender.close({
      condition: "amqp:resource-limit-exceeded",
      description: `more than ${MAX_WAITING_REPLIES} replies wait for link credit`,
    });
    connection.context.counters.protocolErrors++;
  });
}

function replyLink(
  connection: LinkHost,
  sender: Sender,
  slot: { kind: string; key: string; channel: string },
): LinkHandler {
  const queue = replyQueue(connection, sender);
  connection.replies.add(slot.kind, slot.key, slot.channel, queue);
  return new ReplyLink(slot.key === "" ? undefined : slot.key, queue, () => {
    connection.replies.remove(slot.kind, slot.key, slot.channel, queue);
  });
}

function identityLink(
  connection: LinkHost,
  link: Sender | Receiver,
  node: Exclude<LinkNode, { kind: "cbs" }>,
): LinkHandler | string {
  const authorized = connection.auth.byCertificate(node.identity);
  if (typeof authorized === "string") {
    connection.refuse(link, "amqp:unauthorized-access", authorized);
    return authorized;
  }
  const { logger, limits } = connection.context;
  const channel = channelOf(link);
  switch (node.kind) {
    case "events":
      return new EventsLink(link as Receiver, authorized, {
        maxMessageBytes: limits.maxMessageBytes,
        window: limits.maxInflight,
        logger,
      });
    case "inputs":
    case "c2d":
      return new DeliveryLink(link as Sender, authorized, node.kind);
    case "twin":
      if (link.is_receiver()) {
        return new TwinRequestLink(
          link as Receiver,
          authorized,
          channel,
          connection.replies,
          logger,
        );
      }
      return replyLink(connection, link as Sender, {
        kind: "twin",
        key: authorized.key,
        channel,
      });
    case "methods":
      if (link.is_receiver()) return new MethodReplyLink(link as Receiver, authorized, logger);
      return new MethodCallLink(authorized, replyQueue(connection, link as Sender));
  }
}

/**
 * Sets up a link the client attached.
 *
 * @returns its handler, or the reason it was refused (the link is already being detached).
 */
export function openLink(
  connection: LinkHost,
  link: Sender | Receiver,
  role: LinkRole,
): LinkHandler | string {
  const remote = (link as unknown as RemoteAttach).remote?.attach;
  // The hub's end of the link names the same node as the client's.
  if (role === "clientSends") (link as Receiver).set_target(remote?.target as never);
  else (link as Sender).set_source(remote?.source as never);
  const address = terminusAddress(role === "clientSends" ? remote?.target : remote?.source);
  let node: LinkNode;
  try {
    node = parseLinkAddress(address, role);
  } catch (error) {
    if (!(error instanceof LinkAddressError)) throw error;
    connection.refuse(link, "amqp:not-found", error.message);
    return error.message;
  }
  if (node.kind !== "cbs") return identityLink(connection, link, node);
  if (role === "clientSends") {
    return new CbsRequestLink(link as Receiver, connection.auth, connection.replies);
  }
  return replyLink(connection, link as Sender, { kind: "cbs", key: "", channel: "" });
}
