/**
 * The messages one sender publishes on telemetry topics, built without redoing per message what
 * its property bag already said: a client sends the same bag (`$.on=out&$.ct=...`) again and again,
 * so the bag is parsed and the sender stamped once per new bag, and each message only gets its
 * own `messageId` (when the bag has none) and `enqueuedTime`.
 */
import { DEVICE_TELEMETRY_SOURCE, type Message } from "./message.ts";
import {
  isoNow,
  type MessageSender,
  MessageTooLargeError,
  newMessageId,
  splitBag,
  stampSender,
} from "./message_codec.ts";

/** Builds the telemetry messages of one authenticated sender. */
export class TelemetryStamper {
  #bag: string | undefined;
  #appProperties: Readonly<Record<string, string>> = {};
  #systemProperties: Readonly<Record<string, string>> = {};
  #hasMessageId = false;
  #source = DEVICE_TELEMETRY_SOURCE;

  constructor(
    readonly sender: MessageSender,
    readonly maxMessageBytes: number,
    private readonly newId: () => string = newMessageId,
  ) {}

  /**
   * The message `body` with the properties of `bag`, stamped; its application properties are
   * shared with the other messages of the same bag. Both bags are frozen.
   *
   * @throws {MessageTooLargeError} when body and bag exceed `maxMessageBytes`.
   * @throws {PropertyBagError} when the bag has an invalid escape.
   */
  message(body: Uint8Array, bag: string): Message {
    const size = body.byteLength + bag.length;
    if (size > this.maxMessageBytes) {
      throw new MessageTooLargeError(
        `Cannot accept message: ${size} bytes exceeds hub.max_message_bytes (${this.maxMessageBytes})`,
      );
    }
    if (bag !== this.#bag) this.#learn(bag);
    // A spread keeps the template's key order, which is stampSender's.
    const systemProperties: Record<string, string> = { ...this.#systemProperties };
    if (!this.#hasMessageId) systemProperties.messageId = this.newId();
    systemProperties.enqueuedTime = isoNow();
    // Frozen, the store keeps the bag as it is instead of copying it.
    return {
      body,
      appProperties: this.#appProperties,
      systemProperties: Object.freeze(systemProperties),
    };
  }

  /** The route source of the messages of the last bag (`messageSource` of each of them). */
  get source(): string {
    return this.#source;
  }

  #learn(bag: string): void {
    const { appProperties, systemProperties } = splitBag(bag);
    this.#hasMessageId = systemProperties.messageId !== undefined;
    const stamped = stampSender(systemProperties, { sender: this.sender, newId: () => "" });
    // A copy without the per-message keys (`delete` would leave a slow dictionary-mode object,
    // and every message's properties a copy of it).
    const template: Record<string, string> = {};
    for (const name in stamped) {
      if (name === "enqueuedTime" || (name === "messageId" && !this.#hasMessageId)) continue;
      template[name] = stamped[name]!;
    }
    this.#appProperties = Object.freeze(appProperties);
    this.#systemProperties = template;
    const { connectionModuleId, outputName } = template;
    this.#source = !connectionModuleId
      ? DEVICE_TELEMETRY_SOURCE
      : outputName
      ? `/messages/modules/${connectionModuleId}/outputs/${outputName}`
      : `/messages/modules/${connectionModuleId}`;
    this.#bag = bag;
  }
}
