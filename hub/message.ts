/**
 * The message type the hub passes between codec, routes and store (the routes module's own).
 */
export type { Message } from "./routes/message.ts";
