/**
 * Who a CONNECT is: the claimed identity (clientId and username, {@linkcode parseConnectCredentials})
 * verified by its SAS token (the password) or, without one, its TLS client certificate; a last
 * will, if any, must be a topic the identity may publish to (it is then dropped: IoT Hub clients
 * get no will forwarding).
 */
import { identityKey, identityLabel } from "../iothub/mod.ts";
import { publishDenial } from "./acl.ts";
import { parseConnectCredentials } from "./connect_credentials.ts";
import type { ConnectPacket } from "./mqtt/mqtt_packets.ts";
import type { HubIdentity, HubSecurity } from "./security_port.ts";

const decoder = new TextDecoder();

/** The verified identity of a CONNECT, or why not. */
export type ConnectVerdict = { ok: true; identity: HubIdentity } | { ok: false; reason: string };

/** Checks a CONNECT's credentials. */
export function authenticateConnect(
  packet: ConnectPacket,
  options: { security: HubSecurity; peerChain: readonly Uint8Array[]; hubHosts: readonly string[] },
): ConnectVerdict {
  try {
    const claimed = parseConnectCredentials(packet.clientId, packet.username, {
      hubHosts: options.hubHosts,
    });
    const token = packet.password === undefined ? "" : decoder.decode(packet.password);
    const verdict = token !== ""
      ? options.security.verifySasToken(token, claimed)
      : options.peerChain.length > 0
      ? options.security.verifyClientCertificate(options.peerChain, claimed)
      : { ok: false as const, reason: "no SAS token and no client certificate" };
    if (!verdict.ok) return verdict;
    const identity: HubIdentity = {
      deviceId: verdict.identity.deviceId,
      moduleId: verdict.identity.moduleId,
      generationId: verdict.identity.generationId,
      // A derived key's child edge device: its removal must close this connection too.
      via: verdict.identity.via,
    };
    if (identityKey(identity) !== identityKey(claimed)) {
      return {
        ok: false,
        reason: `credentials are for ${identityLabel(identity)}, not ${identityLabel(claimed)}`,
      };
    }
    const willDenial = packet.willTopic === undefined
      ? undefined
      : publishDenial(identity, packet.willTopic);
    if (willDenial) return { ok: false, reason: `last will refused: ${willDenial}` };
    return { ok: true, identity };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
