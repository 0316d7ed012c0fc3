/** Counters of the AMQP head (merged into the hub's stats). */
export interface AmqpCounters {
  /** Open AMQP connections (TLS and WebSocket). */
  connections: number;
  authFailures: number;
  authRateLimited: number;
  /** Links refused: not an IoT Hub node, or an identity the connection may not act as. */
  aclDenials: number;
  /** Connections closed for a protocol violation (oversized frame, transfer without credit). */
  protocolErrors: number;
  /** CBS put-tokens that renewed an identity's token. */
  tokenRenewals: number;
  /** Identities cut off because their SAS token expired unrenewed. */
  tokenExpiries: number;
}

/** Fresh counters. */
export function createAmqpCounters(): AmqpCounters {
  return {
    connections: 0,
    authFailures: 0,
    authRateLimited: 0,
    aclDenials: 0,
    protocolErrors: 0,
    tokenRenewals: 0,
    tokenExpiries: 0,
  };
}
