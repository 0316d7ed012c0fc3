import assert from "node:assert/strict";
import { silentLogger } from "../../core/log.ts";
import { createFailureLimiter } from "../failure_limiter.ts";
import type { HeadConnection, HeadPort, HeadSession } from "../head_port.ts";
import type { HubIdentity, HubSecurity } from "../security_port.ts";
import { createAmqpCounters } from "./amqp_counters.ts";
import { ConnectionAuth } from "./connection_auth.ts";

/** A security manager that takes any token whose signature is "good", for the audience's identity. */
function fakeSecurity(): HubSecurity {
  return {
    verifySasToken: (token, claimed) =>
      token.includes("sig=good")
        ? { ok: true, identity: { ...claimed, generationId: "g1" } }
        : { ok: false, reason: "bad signature" },
    verifyClientCertificate: (chain, claimed) =>
      chain[0]?.[0] === 1
        ? { ok: true, identity: { ...claimed } }
        : { ok: false, reason: "unknown certificate" },
    serverTls: () => ({ certPem: "", keyPem: "", chainPem: "" }),
    onServerTlsChange: () => () => {},
    trustBundlePem: () => "",
    onIdentityRemoved: () => () => {},
    isIdentityCurrent: () => true,
  };
}

/** A head port recording the sessions it opens and ends. */
function fakePort() {
  const opened: { identity: HubIdentity; connection: HeadConnection; ended: boolean }[] = [];
  const port: HeadPort = {
    openSession(identity, connection) {
      const record = { identity, connection, ended: false };
      opened.push(record);
      return {
        identity,
        key: "",
        end() {
          record.ended = true;
        },
      } as unknown as HeadSession;
    },
    ingest: () => Promise.resolve(),
    takeOne: () => undefined,
  };
  return { port, opened };
}

function token(se: number, sig = "good"): string {
  return `SharedAccessSignature sr=hub%2Fdevices%2Fd&sig=${sig}&se=${se}`;
}

function setup(options: { peerChain?: Uint8Array[]; now?: () => number } = {}) {
  const { port, opened } = fakePort();
  const counters = createAmqpCounters();
  const revoked: { key: string; reason: string; condition: string }[] = [];
  let onRevoke: () => void = () => {};
  const auth = new ConnectionAuth({
    port,
    security: fakeSecurity(),
    limiter: createFailureLimiter({ limitPerMinute: 3 }),
    counters,
    logger: silentLogger,
    source: "10.0.0.9",
    peerChain: options.peerChain ?? [],
    protocol: "amqp",
    hostnames: ["myhub.example", "gateway"],
    onRevoked(key, reason, condition) {
      revoked.push({ key, reason, condition });
      onRevoke();
    },
    ...(options.now ? { now: options.now } : {}),
  });
  const nextRevoke = () => new Promise<void>((resolve) => onRevoke = resolve);
  return { auth, opened, counters, revoked, nextRevoke };
}

const later = Math.floor(Date.now() / 1000) + 3600;

Deno.test("ConnectionAuth: a put-token opens one session; the next one renews it", () => {
  const { auth, opened, counters } = setup();
  assert.deepEqual(auth.putToken("hub%2Fdevices%2FLeaf", token(later)), {
    status: 200,
    description: "OK",
  });
  assert.equal(opened.length, 1);
  assert.equal(auth.get({ deviceId: "leaf" })?.method, "sas", "ids compare case-insensitively");
  assert.equal(auth.putToken("hub/devices/leaf", token(later + 60)).status, 200);
  assert.equal(opened.length, 1, "a renewal opens no second session");
  assert.equal(counters.tokenRenewals, 1);
  assert.equal(auth.get({ deviceId: "leaf" })?.expiresAtMs, (later + 60) * 1000);
  auth.close();
  assert.equal(opened[0]!.ended, true);
});

Deno.test("ConnectionAuth: bad tokens and audiences are refused and counted, then rate limited", () => {
  const { auth, counters } = setup();
  assert.equal(auth.putToken("hub/devices/leaf", token(later, "bad")).status, 401);
  assert.equal(auth.putToken("hub/modules/m", token(later)).status, 400);
  assert.equal(auth.putToken("hub/devices/leaf", token(later, "bad")).status, 401);
  assert.equal(auth.putToken("hub/devices/leaf", token(later, "bad")).status, 401);
  assert.equal(counters.authFailures, 4);
  // leaf spent its budget of 3 (the bad audience counts for itself, not for leaf).
  assert.equal(auth.putToken("hub/devices/leaf", token(later)).status, 429);
  assert.equal(counters.authRateLimited, 1);
  assert.equal(auth.size, 0);
});

Deno.test("ConnectionAuth: an unrenewed token revokes its identity when it runs out", async () => {
  // 10 ms before the token's expiry: the timer fires soon, and finds the clock moved past it.
  let clock = 1_000_000_000_990;
  const { auth, revoked, counters, nextRevoke, opened } = setup({ now: () => clock });
  const se = 1_000_000_001;
  assert.equal(auth.putToken("hub/devices/leaf", token(se)).status, 200);
  const revocation = nextRevoke();
  clock += 2000;
  await revocation;
  assert.deepEqual(revoked, [{
    key: "leaf",
    reason: "the SAS token expired",
    condition: "amqp:unauthorized-access",
  }]);
  assert.equal(counters.tokenExpiries, 1);
  assert.equal(opened[0]!.ended, true);
  assert.equal(auth.get({ deviceId: "leaf" }), undefined);
  auth.close();
});

Deno.test("ConnectionAuth: the core closing a session detaches its links as forced", () => {
  const { auth, opened, revoked } = setup();
  auth.putToken("hub/devices/leaf", token(later));
  opened[0]!.connection.close("leaf connected again");
  assert.deepEqual(revoked, [{
    key: "leaf",
    reason: "leaf connected again",
    condition: "amqp:link:detach-forced",
  }]);
  auth.close();
});

Deno.test("ConnectionAuth: a client certificate authorizes the identity it is for, once", () => {
  const good = setup({ peerChain: [new Uint8Array([1])] });
  const authorized = good.auth.byCertificate({ deviceId: "cam" });
  assert.equal(typeof authorized === "string" ? authorized : authorized.method, "x509");
  good.auth.byCertificate({ deviceId: "cam" });
  assert.equal(good.opened.length, 1);
  good.auth.close();
  const bad = setup({ peerChain: [new Uint8Array([2])] });
  assert.equal(bad.auth.byCertificate({ deviceId: "cam" }), "unknown certificate");
  assert.equal(bad.counters.authFailures, 1);
  const none = setup();
  assert.match(String(none.auth.byCertificate({ deviceId: "cam" })), /not authorized/);
});

Deno.test("ConnectionAuth: SASL PLAIN takes this hub's name and a token for the username's identity", () => {
  const { auth, counters } = setup();
  assert.equal(auth.saslPlain("edge/modules/m@sas.otherhub", token(later)), false);
  assert.equal(auth.saslPlain("edge/modules/m", token(later)), false);
  assert.equal(auth.saslPlain("edge/modules/m@sas.myhub", token(later, "bad")), false);
  assert.equal(counters.authFailures, 3);
  const { auth: fresh } = setup();
  assert.equal(fresh.saslPlain("edge/modules/m@sas.myhub", token(later)), true);
  assert.equal(fresh.get({ deviceId: "edge", moduleId: "m" })?.method, "sas");
  fresh.close();
});

Deno.test("ConnectionAuth: revokeRemoved cuts off exactly the removed identities", () => {
  const { auth, revoked } = setup();
  auth.putToken("hub/devices/a", token(later));
  auth.putToken("hub/devices/b", token(later));
  auth.revokeRemoved((identity) => identity.deviceId === "b");
  assert.deepEqual(revoked.map((r) => [r.key, r.condition]), [["b", "amqp:unauthorized-access"]]);
  assert.notEqual(auth.get({ deviceId: "a" }), undefined);
  auth.close();
});
