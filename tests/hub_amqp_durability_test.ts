/**
 * No accepted AMQP transfer is lost when ledge is killed with -9: a real `ledge run` routing
 * module a's outputs to module b's input, b offline, a sending numbered messages over AMQP/TLS
 * (CBS put-token with a token from its workload socket); SIGKILL mid-stream, restart on the same
 * state dir, a resends what was not accepted, then b attaches its input link over AMQP and must
 * receive every accepted message.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import rhea from "rhea";
import { type AmqpTestClient, connectAmqp, sendNumbered } from "./_amqp_client.ts";
import { startLedge } from "./_ledge.ts";
import { moduleCredentials, waitingModule } from "./_ledge_modules.ts";
import { waitFor } from "./_wait.ts";
import { deploymentManifest } from "./_manifests.ts";

const TOTAL = 5_000;
const KILL_AFTER_ACCEPTS = 1_500;
const DEVICE = "test-device";
const HOST = "localhost";

async function connectModule(
  port: number,
  credentials: { token: string; caPem: string },
  moduleId: string,
): Promise<AmqpTestClient> {
  const client = await connectAmqp({ port, caPem: credentials.caPem });
  const reply = await client.putToken(
    encodeURIComponent(`${HOST}/devices/${DEVICE}/modules/${moduleId}`),
    credentials.token,
  );
  assert.equal(reply.status, 200, reply.description);
  return client;
}

const message = (n: number) => ({
  body: rhea.message.data_section(Buffer.from(String(n))),
  application_properties: { "iothub-outputname": "out1", n: String(n) },
});

Deno.test("every AMQP transfer accepted before kill -9 reaches the offline module after restart", async () => {
  const extraConfig = `[agent]\nengine = "none"\n`;
  let ledge = await startLedge({ extraConfig });
  const stateDir = ledge.stateDir;
  const clients: AmqpTestClient[] = [];
  try {
    const file = `${stateDir}.deployment.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(deploymentManifest({ a: waitingModule(), b: waitingModule() }, {
        routes: {
          r: 'FROM /messages/modules/a/outputs/* INTO BrokeredEndpoint("/modules/b/inputs/in")',
        },
      })),
    );
    const deployed = await ledge.cli(["deploy", file]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const identity = (moduleId: string) => ({
      stateDir,
      deviceId: DEVICE,
      iothubHostname: HOST,
      moduleId,
    });
    const a = await moduleCredentials(identity("a"), ledge.cli);
    const numbers = Array.from({ length: TOTAL }, (_, i) => i + 1);
    const events = `/devices/${DEVICE}/modules/a/messages/events`;

    // Phase 1: send until KILL_AFTER_ACCEPTS are accepted, then SIGKILL the daemon mid-stream.
    const first = await connectModule(ledge.ports.amqp, a, "a");
    clients.push(first);
    let killing: Promise<Deno.CommandStatus> | undefined;
    let acceptedSoFar = 0;
    const sent = await sendNumbered(first, await first.openSender(events), {
      numbers,
      window: 100,
      message,
      onAccepted() {
        if (!killing && ++acceptedSoFar >= KILL_AFTER_ACCEPTS) killing = ledge.stop("SIGKILL");
      },
    });
    assert.ok(killing, "the daemon must have been killed mid-stream");
    assert.equal((await killing).signal, "SIGKILL");
    assert.ok(sent.closed, "the sender must see its connection drop");
    assert.ok(sent.accepted.length < TOTAL, "the kill must come before the last acceptance");

    // Phase 2: restart on the same state dir; a resends everything that was not accepted.
    ledge = await startLedge({ extraConfig, stateDir });
    const acceptedBefore = new Set(sent.accepted);
    const second = await connectModule(ledge.ports.amqp, a, "a");
    clients.push(second);
    const resent = await sendNumbered(second, await second.openSender(events), {
      numbers: numbers.filter((n) => !acceptedBefore.has(n)),
      window: 100,
      message,
    });
    assert.equal(resent.closed, false, "the restarted daemon must accept the rest");
    assert.equal(sent.accepted.length + resent.accepted.length, TOTAL);

    // b attaches its input link for the first time and drains its queue over AMQP.
    const b = await moduleCredentials(identity("b"), ledge.cli);
    const receiving = await connectModule(ledge.ports.amqp, b, "b");
    clients.push(receiving);
    const seen = new Set<number>();
    let deliveries = 0;
    const receiver = await receiving.openReceiver(`/devices/${DEVICE}/modules/b/messages/events`, {
      creditWindow: 500,
    });
    receiver.on("message", (ctx) => {
      deliveries++;
      seen.add(Number(Buffer.from(ctx.message!.body.content).toString()));
      assert.equal(ctx.message!.message_annotations?.["x-opt-input-name"], "in");
    });
    await waitFor(`all ${TOTAL} messages at b`, () => seen.size >= TOTAL, 40_000).catch((error) => {
      const lost = sent.accepted.filter((n) => !seen.has(n));
      throw new Error(`${error.message}: ${lost.length} accepted before the kill are missing`);
    });
    for (const n of sent.accepted) assert.ok(seen.has(n), `accepted message ${n} was lost`);
    console.log(
      `amqp durability: ${sent.accepted.length} accepted before kill -9, ` +
        `${resent.accepted.length} after; ${deliveries} deliveries (${
          deliveries - TOTAL
        } duplicates)`,
    );
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    await ledge.stop("SIGTERM");
    await Deno.remove(`${stateDir}.deployment.json`).catch(() => {});
    await Deno.remove(`${stateDir}.toml`).catch(() => {});
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
});
