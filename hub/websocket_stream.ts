/**
 * A WebSocket as the byte stream the MQTT connection reads from: each binary message is pushed as a chunk,
 * each write is sent as one binary message. (ws' own `createWebSocketStream` stalls under Deno's
 * stream implementation when a client splits a packet over several messages, as mqtt.js does.)
 */
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** Wraps `socket` in a Duplex; closing either side closes the other. */
export function websocketStream(socket: WebSocket): Duplex {
  const stream = new Duplex({
    read() {
      if (socket.isPaused) socket.resume();
    },
    write(chunk: Uint8Array, _encoding, callback) {
      if (socket.readyState !== socket.OPEN) return callback(new Error("WebSocket closed"));
      socket.send(chunk, { binary: true }, callback);
    },
    final(callback) {
      socket.close();
      callback();
    },
    destroy(error, callback) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.terminate();
      }
      callback(error);
    },
  });
  socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on("close", () => {
    stream.push(null);
    stream.destroy();
  });
  socket.on("error", (error) => stream.destroy(error));
  return stream;
}
