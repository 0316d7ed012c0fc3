import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import {
  admitContainer,
  ContainerDeniedError,
  deniedModules,
  policyContext,
  underPolicy,
} from "./admission.ts";
import { parseDeployment } from "./deployment.ts";

function config(allowToml = "") {
  return parseConfigText(`[state]\ndir = "/var/lib/ledge"\n[agent.allow]\n${allowToml}`, {
    uid: 1000,
    hostname: "test",
    env: {},
  });
}

const policy = (allowToml = "") =>
  policyContext(config(allowToml), "/var/lib/ledge", "/run/podman/podman.sock");

function deployment(createOptions: string) {
  const modules = {
    box: {
      version: "1",
      type: "docker",
      status: "running",
      restartPolicy: "always",
      settings: { image: "box:1", createOptions },
    },
    proc: {
      version: "1",
      type: "process",
      status: "running",
      restartPolicy: "always",
      settings: { command: "true" },
    },
  };
  return parseDeployment({
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: { type: "docker", settings: {} },
          systemModules: {},
          modules,
        },
      },
      $edgeHub: { "properties.desired": { schemaVersion: "1.1", routes: {} } },
    },
  }, { version: 1 });
}

Deno.test("underPolicy() folds the device policy into container config hashes only", () => {
  const plain = deployment("{}");
  const a = underPolicy(plain, policy());
  const again = underPolicy(plain, policy());
  const wider = underPolicy(plain, policy("privileged = true"));
  const box = (d: typeof plain) => d.modules.find((m) => m.name === "box")!.configHash;
  const proc = (d: typeof plain) => d.modules.find((m) => m.name === "proc")!.configHash;
  assert.equal(box(a), box(again));
  assert.notEqual(box(a), box(plain));
  assert.notEqual(box(a), box(wider));
  assert.equal(proc(a), proc(plain));
});

Deno.test("deniedModules() and admitContainer() name the field and the allow key", async () => {
  const bad = deployment('{"hostconfig":{"privileged":true}}');
  const denied = await deniedModules(bad, policy());
  assert.deepEqual(Object.keys(denied), ["box"]);
  assert.match(denied.box!, /HostConfig\.Privileged: .*\(agent\.allow\.privileged\)/);
  const box = bad.modules.find((m) => m.name === "box")!;
  await assert.rejects(admitContainer(box, policy()), ContainerDeniedError);
  const admitted = await admitContainer(box, policy("privileged = true"));
  assert.deepEqual(admitted.spec.HostConfig, { Privileged: true });
});
