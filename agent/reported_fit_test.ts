import assert from "node:assert/strict";
import { createLogger, type LogFields } from "../core/log.ts";
import type { EdgeAgentReported, ReportedModule } from "./reported.ts";
import { CUT_MARKER, cutText, fitReported, ReportedFit } from "./reported_fit.ts";

const NEVER = "0001-01-01T00:00:00Z";

function reportedModule(index: number, description: string, options = 0): ReportedModule {
  return {
    version: "1.0",
    type: "docker",
    status: "running",
    restartPolicy: "always",
    env: { PAD: { value: "e".repeat(options) } },
    settings: { image: `example/m${index}:1`, createOptions: "o".repeat(options) },
    runtimeStatus: "failed",
    statusDescription: description,
    exitCode: index % 7,
    lastStartTimeUtc: NEVER,
    lastExitTimeUtc: NEVER,
    restartCount: index,
    lastRestartTimeUtc: NEVER,
  };
}

function report(count: number, description: (i: number) => string, options = 0) {
  const modules: Record<string, ReportedModule> = {};
  for (let i = 0; i < count; i++) modules[`m${i}`] = reportedModule(i, description(i), options);
  const doc: EdgeAgentReported & { ledge: { version: string } } = {
    schemaVersion: "1.0",
    version: { version: "1", build: "1", commit: "" },
    lastDesiredVersion: 3,
    lastDesiredStatus: { code: 200, description: "x".repeat(500) },
    runtime: {
      platform: { os: "linux", architecture: "x86_64", version: "1" },
      type: "docker",
      settings: {},
    },
    systemModules: {},
    modules,
    ledge: { version: "1" },
  };
  return doc;
}

function bytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).byteLength;
}

/** Every module is there with its runtimeStatus, exitCode and restartCount. */
function assertModulesKept(before: EdgeAgentReported, after: EdgeAgentReported): void {
  assert.deepEqual(Object.keys(after.modules), Object.keys(before.modules));
  for (const [name, module] of Object.entries(before.modules)) {
    const kept = after.modules[name]!;
    assert.equal(kept.runtimeStatus, module.runtimeStatus);
    assert.equal(kept.exitCode, module.exitCode);
    assert.equal(kept.restartCount, module.restartCount);
    assert.equal(kept.settings.image, module.settings.image);
  }
}

Deno.test("fitReported() leaves a report under the limit as it is", () => {
  const doc = report(3, () => "fine");
  const { reported, cut } = fitReported(doc, 32 * 1024);
  assert.equal(reported, doc);
  assert.equal(cut, undefined);
});

Deno.test("fitReported() drops the deployment's echoes first and keeps descriptions whole when that is enough", () => {
  const doc = report(40, (i) => `refused ${i}: ${"why ".repeat(20)}`, 800);
  assert.ok(bytes(doc) > 32 * 1024);
  const { reported, cut } = fitReported(doc, 32 * 1024);
  assert.ok(bytes(reported) <= 32 * 1024);
  assert.deepEqual(cut, {
    limitBytes: 32 * 1024,
    fullBytes: bytes(doc),
    settingsOmitted: true,
    fits: true,
  });
  assert.deepEqual(reported.reportCut, cut);
  assertModulesKept(doc, reported);
  for (const [name, module] of Object.entries(reported.modules)) {
    assert.equal(module.statusDescription, doc.modules[name]!.statusDescription);
    assert.equal(module.env, undefined);
    assert.equal(module.restartPolicy, undefined);
    assert.equal(module.type, "docker");
    assert.deepEqual(Object.keys(module.settings), ["image"]);
  }
  assert.equal(reported.ledge.version, "1", "keys beyond IoT Edge's stay");
});

Deno.test("fitReported() then cuts the longest descriptions to the longest length that fits, with the marker", () => {
  // Half the modules have short descriptions, half long ones: only the long ones are cut.
  const long = (i: number) => `module ${i} was refused because ${"a reason ".repeat(60)}`;
  const doc = report(100, (i) => (i % 2 === 0 ? `short ${i}` : long(i)));
  const { reported, cut } = fitReported(doc, 32 * 1024);
  const size = bytes(reported);
  assert.ok(size <= 32 * 1024, `${size} bytes`);
  assert.ok(cut?.fits && cut.descriptionsCutTo !== undefined);
  assertModulesKept(doc, reported);
  for (const [name, module] of Object.entries(reported.modules)) {
    const full = doc.modules[name]!.statusDescription;
    if (full.length <= cut.descriptionsCutTo!) assert.equal(module.statusDescription, full);
    else assert.equal(module.statusDescription, cutText(full, cut.descriptionsCutTo!));
  }
  assert.ok(reported.lastDesiredStatus.description.includes(CUT_MARKER));
  // The longest that fits: one more character each would not.
  const longer = fitReported(doc, size + 1);
  assert.ok(longer.cut!.descriptionsCutTo! <= cut.descriptionsCutTo! + 1);
});

Deno.test("fitReported() says so when even the shortest form is over the limit", () => {
  const doc = report(200, () => "d".repeat(100));
  const { reported, cut } = fitReported(doc, 4 * 1024);
  assert.equal(cut?.fits, false);
  assert.equal(cut?.descriptionsCutTo, 0);
  assertModulesKept(doc, reported);
});

Deno.test("cutText() keeps the beginning and the end of a reason", () => {
  const reason =
    "createOptions denied: HostConfig.Privileged: denied by the device policy, which does not allow privileged containers (agent.allow.privileged)";
  const cut = cutText(reason, 72);
  assert.equal(cut, `${reason.slice(0, 48)}${CUT_MARKER}${reason.slice(-24)}`);
  assert.ok(cut.startsWith("createOptions denied: HostConfig.Privileged"));
  assert.ok(cut.endsWith("agent.allow.privileged)"));
  assert.equal(cutText(reason, 10), `${reason.slice(0, 10)}${CUT_MARKER}`, "short: the beginning");
  assert.equal(cutText(reason, 0), CUT_MARKER);
  assert.equal(cutText("abc", 3), "abc");
});

Deno.test("cutText() never splits a surrogate pair", () => {
  assert.equal(cutText("ab😀cd", 3), `ab${CUT_MARKER}`);
  assert.equal(cutText("ab😀cd", 4), `ab😀${CUT_MARKER}`);
  const head = `${"h".repeat(20)}😀${"t".repeat(30)}`;
  assert.equal(cutText(head, 31), `${"h".repeat(20)}${CUT_MARKER}${"t".repeat(10)}`);
  const tail = `${"h".repeat(40)}x😀${"t".repeat(9)}`;
  assert.equal(cutText(tail, 30), `${"h".repeat(20)}${CUT_MARKER}${"t".repeat(9)}`);
});

Deno.test("ReportedFit logs once when cutting starts and once when it stops", () => {
  const lines: { level: string; msg: string; fields: LogFields }[] = [];
  const logger = createLogger({
    format: "json",
    write: (line) => {
      const { level, msg, ...fields } = JSON.parse(line);
      lines.push({ level, msg, fields });
    },
  });
  const fit = new ReportedFit(logger, 16 * 1024);
  const big = report(30, () => "w".repeat(600));
  fit.apply(big);
  fit.apply(big);
  fit.apply(report(31, () => "w".repeat(600)));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, "warn");
  assert.equal(lines[0]!.fields.modules, 30);
  assert.equal(lines[0]!.fields.settingsOmitted, true);
  fit.apply(report(2, () => "small"));
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.level, "info");
});
