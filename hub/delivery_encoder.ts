/**
 * How the hub's queued messages become PUBLISHes for an MQTT client: a module's input queue
 * (`/modules/{m}/inputs/{input}`) is delivered on `devices/{d}/modules/{m}/inputs/{input}/{bag}`,
 * a device's C2D queue on `devices/{d}/messages/devicebound/{bag}`. The part before the bag is
 * encoded once per endpoint; the bag per message.
 */
import { c2dTopic, deliveryBagLength, inputTopic } from "../iothub/mod.ts";
import type { BagTail } from "./publish_packet.ts";
import type { HubIdentity } from "./security_port.ts";
import type { DeliveryEncoder } from "./queue_pump.ts";

/** An endpoint key of a module input queue: `/modules/{moduleId}/inputs/{input}`. */
export const MODULE_ENDPOINT = /^\/modules\/([^/]+)\/inputs\/([^/]+)$/;

const encoder = new TextEncoder();

/** The delivery topics of `identity`'s queues. */
export function deliveryEncoder(identity: HubIdentity): DeliveryEncoder {
  // One tail for all deliveries: the writer reads it before the next one is asked for.
  const tail: BagTail = {
    message: { body: new Uint8Array(), appProperties: {}, systemProperties: {} },
    length: 0,
  };
  return {
    topicHead(endpoint) {
      const match = MODULE_ENDPOINT.exec(endpoint);
      const topic = match && identity.moduleId !== undefined
        ? inputTopic(identity.deviceId, identity.moduleId, { input: match[2]!, bag: "" })
        : c2dTopic(identity.deviceId, "");
      return encoder.encode(topic);
    },
    topicTail(queued) {
      tail.message = queued.message;
      tail.length = deliveryBagLength(queued.message);
      return tail;
    },
  };
}
