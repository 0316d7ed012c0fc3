/**
 * A plain AMQP 1.0 client for tests and the bench (rhea as a client, not the Azure SDK): put-token
 * on `$cbs`, links by address, sends that resolve with the hub's outcome. For what the SDK does
 * not let a test do: another identity's link, an expired token, SASL PLAIN, a protocol violation.
 */
import rhea, {
  type AmqpError,
  type Connection,
  type Delivery,
  type EventContext,
  type Receiver,
  type Sender,
} from "rhea";

/** An AMQP error the hub answered with. */
export class AmqpRefusal extends Error {
  constructor(readonly condition: string | undefined, description: string | undefined) {
    super(`${condition}: ${description}`);
  }
}

/** A connected test client. */
export interface AmqpTestClient {
  readonly connection: Connection;
  /** Sends a CBS put-token; resolves with the reply's status. */
  putToken(audience: string, token: string): Promise<{ status: number; description: string }>;
  /** Attaches a sender; resolves once it has credit, rejects with the hub's refusal. */
  openSender(address: string): Promise<Sender>;
  /** Attaches a receiver (auto-accepting unless `manual`); rejects with the hub's refusal. */
  openReceiver(
    address: string,
    options?: { manual?: boolean; creditWindow?: number },
  ): Promise<Receiver>;
  /** Sends; resolves when accepted, rejects with the refusal when rejected or released. */
  send(sender: Sender, message: Record<string, unknown>): Promise<void>;
  /** Resolves when the hub closes the link, with its error. */
  linkClosed(link: Sender | Receiver): Promise<AmqpError | undefined>;
  /** Resolves when the connection ends, with the hub's error if it sent one. */
  readonly ended: Promise<AmqpError | undefined>;
  close(): Promise<void>;
}

/** Options of {@linkcode connectAmqp}. */
export interface ConnectAmqpOptions {
  port: number;
  caPem: string;
  host?: string;
  /** SASL PLAIN credentials. */
  username?: string;
  password?: string;
  /** TLS client certificate. */
  cert?: string;
  key?: string;
}

function refusal(error: unknown): AmqpRefusal {
  const amqp = error as AmqpError | undefined;
  return new AmqpRefusal(amqp?.condition, amqp?.description);
}

/** Connects over TLS and resolves once the AMQP connection is open. */
export function connectAmqp(options: ConnectAmqpOptions): Promise<AmqpTestClient> {
  const container = rhea.create_container({ id: `test-${crypto.randomUUID()}` });
  const connection = container.connect({
    transport: "tls",
    host: options.host ?? "localhost",
    port: options.port,
    ca: options.caPem,
    servername: options.host ?? "localhost",
    reconnect: false,
    ...(options.cert ? { cert: options.cert, key: options.key } : {}),
    ...(options.username ? { username: options.username, password: options.password } : {}),
  } as never);
  const outcomes = new Map<Delivery, { resolve(): void; reject(error: Error): void }>();
  const closers = new Map<Sender | Receiver, (error: AmqpError | undefined) => void>();
  const replies = new Map<string, (reply: { status: number; description: string }) => void>();
  let cbs: Promise<{ sender: Sender }> | undefined;
  let endedResolve!: (error: AmqpError | undefined) => void;
  const ended = new Promise<AmqpError | undefined>((resolve) => endedResolve = resolve);

  container.on("accepted", (ctx: EventContext) => outcomes.get(ctx.delivery!)?.resolve());
  for (const outcome of ["rejected", "released", "modified"]) {
    container.on(outcome, (ctx: EventContext) => {
      const state = (ctx.delivery as unknown as { remote_state?: { error?: AmqpError } })
        .remote_state;
      outcomes.get(ctx.delivery!)?.reject(refusal(state?.error ?? { condition: outcome }));
    });
  }
  for (const event of ["sender_close", "receiver_close"]) {
    container.on(event, (ctx: EventContext) => {
      const link = (ctx.sender ?? ctx.receiver)!;
      closers.get(link)?.(link.error as AmqpError | undefined);
    });
  }
  container.on("sender_error", () => {});
  container.on("receiver_error", () => {});
  container.on("connection_error", () => {});
  container.on("error", () => {});
  container.on("disconnected", () => endedResolve(connection.error as AmqpError | undefined));
  container.on("connection_close", () => endedResolve(connection.error as AmqpError | undefined));
  container.on("message", (ctx: EventContext) => {
    if (ctx.receiver?.source?.address !== "$cbs") return;
    const message = ctx.message!;
    const properties = message.application_properties ?? {};
    replies.get(String(message.correlation_id))?.({
      status: Number(properties["status-code"]),
      description: String(properties["status-description"]),
    });
  });

  function linkClosed(link: Sender | Receiver): Promise<AmqpError | undefined> {
    return new Promise((resolve) => closers.set(link, resolve));
  }

  function attached<T extends Sender | Receiver>(link: T, ready: string): Promise<T> {
    return new Promise((resolve, reject) => {
      linkClosed(link).then((error) => reject(refusal(error)));
      ended.then((error) => reject(refusal(error ?? { condition: "disconnected" })));
      link.once(ready, () => {
        // A refused link is attached and detached in one go: look once more after this turn.
        setTimeout(() => link.is_open() ? resolve(link) : undefined, 0);
      });
    });
  }

  const client: AmqpTestClient = {
    connection,
    ended,
    linkClosed,
    openSender(address) {
      return attached(connection.open_sender({ target: { address } }), "sendable");
    },
    openReceiver(address, receiverOptions = {}) {
      return attached(
        connection.open_receiver({
          source: { address },
          autoaccept: !receiverOptions.manual,
          credit_window: receiverOptions.creditWindow ?? 100,
        }),
        "receiver_open",
      );
    },
    send(sender, message) {
      return new Promise((resolve, reject) => {
        const delivery = sender.send(message as never);
        outcomes.set(delivery, { resolve, reject });
      });
    },
    async putToken(audience, token) {
      cbs ??= Promise.all([client.openSender("$cbs"), client.openReceiver("$cbs")]).then((
        [sender],
      ) => ({ sender }));
      const { sender } = await cbs;
      const messageId = crypto.randomUUID();
      const reply = new Promise<{ status: number; description: string }>((resolve) =>
        replies.set(messageId, resolve)
      );
      sender.send({
        to: "$cbs",
        reply_to: "cbs",
        message_id: messageId,
        application_properties: {
          operation: "put-token",
          type: "servicebus.windows.net:sastoken",
          name: audience,
        },
        body: token,
      });
      return await reply;
    },
    async close() {
      if (connection.is_open()) connection.close();
      await ended;
    },
  };
  return new Promise((resolve, reject) => {
    container.once("connection_open", () => resolve(client));
    ended.then((error) => reject(refusal(error ?? { condition: "disconnected" })));
  });
}

/** What {@linkcode sendNumbered} saw. */
export interface SendOutcome {
  /** Numbers whose transfer the hub accepted, in acceptance order. */
  accepted: number[];
  /** Whether the connection ended before every transfer was settled. */
  closed: boolean;
}

/**
 * Sends one transfer per number with at most `window` unsettled, recording which the hub
 * accepted; resolves when all are settled or the connection ends.
 */
export function sendNumbered(
  client: AmqpTestClient,
  sender: Sender,
  options: {
    numbers: readonly number[];
    window: number;
    message: (n: number) => Record<string, unknown>;
    onAccepted?: (n: number) => void;
  },
): Promise<SendOutcome> {
  const accepted: number[] = [];
  let next = 0;
  let unsettled = 0;
  let closed = false;
  return new Promise((resolve) => {
    const finish = () => resolve({ accepted, closed });
    client.ended.then(() => {
      closed = true;
      finish();
    });
    function pump(): void {
      while (!closed && unsettled < options.window && next < options.numbers.length) {
        const n = options.numbers[next++]!;
        unsettled++;
        client.send(sender, options.message(n)).then(
          () => {
            accepted.push(n);
            options.onAccepted?.(n);
          },
          () => {},
        ).finally(() => {
          unsettled--;
          if (next >= options.numbers.length && unsettled === 0) finish();
          else pump();
        });
      }
    }
    pump();
  });
}
