import assert from "node:assert/strict";
import { startTestFleet } from "./_fleet_fixture.ts";
import { fleetManifest, imageModule } from "../tests/_fleet.ts";

type Content = {
  modulesContent: { $edgeAgent: { "properties.desired": Record<string, unknown> } };
};

function content(moduleName: string): Content {
  return fleetManifest({ [moduleName]: imageModule(moduleName) }, {}) as Content;
}
import { advanceRollout, rolloutOrder, waveSize } from "./rollout.ts";

const DEVICES = Array.from({ length: 20 }, (_, i) => `dev-${String(i).padStart(2, "0")}`);

Deno.test("waveSize() releases a cumulative share, at least one device", () => {
  assert.equal(waveSize(1, 20), 1);
  assert.equal(waveSize(10, 20), 2);
  assert.equal(waveSize(50, 20), 10);
  assert.equal(waveSize(100, 20), 20);
  assert.equal(waveSize(1, 0), 0);
  assert.equal(waveSize(33, 3), 1);
});

Deno.test("rolloutOrder() is fixed per deployment and differs between deployments", () => {
  assert.deepEqual(rolloutOrder("a", DEVICES), rolloutOrder("a", [...DEVICES].reverse()));
  assert.notDeepEqual(rolloutOrder("a", DEVICES), rolloutOrder("b", DEVICES));
});

Deno.test("advanceRollout() waits the soak time after a wave succeeded", () => {
  const spec = { waves: [50, 100], waitSeconds: 60, abortIfFailedPercent: 0 };
  const inputs = (now: number) => ({
    deploymentId: "d",
    spec,
    targeted: ["a", "b"],
    outcomeOf: () => "success" as const,
    failureOf: () => undefined,
    now,
  });
  const started = advanceRollout(undefined, inputs(0));
  assert.equal(started.released.length, 1);
  const succeeded = advanceRollout(started, inputs(1000));
  assert.equal(succeeded.wave, 0);
  assert.equal(succeeded.waveSucceededAt, 1000);
  assert.equal(advanceRollout(succeeded, inputs(60_999)).wave, 0);
  const next = advanceRollout(succeeded, inputs(61_000));
  assert.equal(next.wave, 1);
  assert.equal(next.released.length, 2);
});

Deno.test("a staged rollout releases wave by wave on success, then completes", async () => {
  const { fleet, hub, stop } = await startTestFleet(DEVICES);
  try {
    await fleet.service.createDeployment({
      id: "v2",
      content: content("v2"),
      rollout: { waves: [10, 50, 100], waitSeconds: 0, abortIfFailedPercent: 20 },
    });
    const released = () => DEVICES.filter((id) => hub.modulesOf(id).includes("v2"));
    assert.equal(released().length, 2);
    assert.equal(fleet.service.showDeployment("v2").rollout?.status, "rolling");
    for (const expected of [10, 20]) {
      for (const id of released()) hub.report(id);
      await fleet.controller.settle();
      await fleet.controller.settle();
      assert.equal(released().length, expected);
    }
    for (const id of released()) hub.report(id);
    await fleet.controller.settle();
    const shown = fleet.service.showDeployment("v2");
    assert.equal(shown.rollout?.status, "completed");
    assert.equal(shown.systemMetrics.results.reportedSuccessfulCount, 20);
  } finally {
    await stop();
  }
});

Deno.test("a failing wave aborts the rollout and returns its devices to what they ran before", async () => {
  const { fleet, hub, stop } = await startTestFleet(DEVICES);
  try {
    await fleet.service.createDeployment({ id: "v1", content: content("v1"), priority: 1 });
    for (const id of DEVICES) hub.report(id);
    await fleet.service.createDeployment({
      id: "v2",
      content: content("v2"),
      priority: 2,
      rollout: { waves: [10, 100], waitSeconds: 0, abortIfFailedPercent: 5 },
    });
    const wave = DEVICES.filter((id) => hub.modulesOf(id).includes("v2"));
    assert.equal(wave.length, 2);
    hub.report(wave[0]!);
    hub.report(wave[1]!, { code: 500, description: "v2: exited with code 1" });
    await fleet.controller.settle();
    await fleet.controller.settle();
    const shown = fleet.service.showDeployment("v2");
    assert.equal(shown.rollout?.status, "aborted");
    assert.match(
      shown.rollout?.reason ?? "",
      /wave 1 \(10%\): 1 of 2 released devices \(50%\) failed, over the 5% threshold/,
    );
    assert.match(shown.rollout?.reason ?? "", new RegExp(`${wave[1]}: v2: exited with code 1`));
    assert.deepEqual(shown.rollout?.returnedDeviceIds?.sort(), [...wave].sort());
    for (const id of DEVICES) assert.deepEqual(hub.modulesOf(id), ["v1"], id);
    assert.equal(shown.systemMetrics.results.appliedCount, 0);
  } finally {
    await stop();
  }
});

Deno.test("an aborted rollout with no other deployment restores the twins it replaced", async () => {
  const { fleet, hub, stop } = await startTestFleet(["solo"]);
  try {
    // What `ledge deploy --device solo` had set, outside any automatic deployment.
    hub.patchDesired(
      { deviceId: "solo", moduleId: "$edgeAgent" },
      content("manual").modulesContent.$edgeAgent["properties.desired"],
    );
    await fleet.service.createDeployment({
      id: "v2",
      content: content("v2"),
      rollout: { waves: [100], waitSeconds: 0, abortIfFailedPercent: 0 },
    });
    assert.deepEqual(hub.modulesOf("solo"), ["v2"]);
    hub.report("solo", { code: 500, description: "rolled back" });
    await fleet.controller.settle();
    await fleet.controller.settle();
    assert.equal(fleet.service.showDeployment("v2").rollout?.status, "aborted");
    assert.deepEqual(hub.modulesOf("solo"), ["manual"]);
  } finally {
    await stop();
  }
});
