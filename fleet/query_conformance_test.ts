/**
 * The IoT Hub query language, as its documentation shows it ("Queries for IoT Hub device and
 * module twins", "IoT Hub query language"): each example of the docs, run over a small fleet
 * shaped like the docs' sample twin, and the errors a typo gets.
 */
import assert from "node:assert/strict";
import { DEVICES, MODULES, rows } from "./_query_fixture.ts";
import { parseCondition, parseQuery } from "./query_parser.ts";
import { ContinuationTokenError, runQuery } from "./query_run.ts";
import { QuerySyntaxError } from "./query_syntax_error.ts";
import type { JsonValue } from "./query_ast.ts";
import { holds } from "./query_eval.ts";

function all(query: string, pageSize = 100): JsonValue[] {
  const ast = parseQuery(query);
  const source = rows(ast.from === "devices" ? DEVICES : MODULES);
  const items: JsonValue[] = [];
  let token: string | undefined;
  do {
    const page = runQuery(ast, source, { pageSize, continuationToken: token });
    items.push(...page.items);
    token = page.continuationToken ?? undefined;
  } while (token !== undefined);
  return items;
}

function ids(query: string): string[] {
  return all(query).map((item) => {
    const row = item as Record<string, string>;
    return row.moduleId === undefined ? row.deviceId! : `${row.deviceId}/${row.moduleId}`;
  });
}

/** [query as in the docs, the devices or modules it selects]. */
const SELECTIONS: [string, string[]][] = [
  ["SELECT * FROM devices", ["device1", "device2", "device3", "device4", "device5"]],
  ["SELECT * FROM devices\nWHERE tags.location.region = 'US'", ["device1", "device2", "device4"]],
  [
    "SELECT * FROM devices\n  WHERE tags.location.region = 'US'\n" +
    "    AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    ["device1", "device4"],
  ],
  [
    "SELECT * FROM devices\n  WHERE properties.reported.connectivity IN ['wired', 'wifi']",
    ["device1", "device2"],
  ],
  [
    "SELECT * FROM devices\n  WHERE is_defined(properties.reported.connectivity)",
    ["device1", "device2", "device3"],
  ],
  [
    "SELECT * FROM devices.modules",
    [
      "device1/$edgeAgent",
      "device1/scanner",
      "device2/scanner",
      "device3/$edgeAgent",
      "device3/scanner",
    ],
  ],
  [
    "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'",
    ["device2/scanner", "device3/scanner"],
  ],
  [
    "SELECT * FROM devices.modules\n  WHERE properties.reported.status = 'scanning'\n" +
    "  AND deviceId IN ['device1', 'device2']",
    ["device2/scanner"],
  ],
  ["SELECT * FROM devices WHERE tags.[[group]] = 'x'", ["device4"]],
  [
    "SELECT * FROM devices.modules WHERE moduleId = '$edgeAgent' " +
    "AND properties.reported.lastDesiredStatus.code = 200",
    ["device1/$edgeAgent"],
  ],
  // The metric query IoT Edge's docs suggest: the desired version reached, with success.
  [
    "SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = '$edgeAgent' " +
    "AND properties.desired.$version = properties.reported.lastDesiredVersion " +
    "AND properties.reported.lastDesiredStatus.code = 200",
    ["device1/$edgeAgent"],
  ],
  ["SELECT * FROM devices WHERE capabilities.iotEdge = true", ["device1", "device3"]],
  ["SELECT * FROM devices WHERE NOT tags.env = 'prod'", ["device2"]],
  ["SELECT * FROM devices WHERE tags.location.region NIN ['US']", ["device3"]],
  ["SELECT * FROM devices WHERE STARTSWITH(tags.location.plant, 'Redmond')", [
    "device1",
    "device2",
  ]],
  ["SELECT * FROM devices WHERE ENDSWITH(tags.location.plant, '43')", ["device1"]],
  ["SELECT * FROM devices WHERE IS_OBJECT(properties.reported.connectivity)", ["device3"]],
  ["SELECT * FROM devices WHERE IS_STRING(properties.reported.connectivity)", [
    "device1",
    "device2",
  ]],
  ["SELECT * FROM devices WHERE IS_PRIMITIVE(tags.env) AND NOT IS_NULL(tags.env)", [
    "device1",
    "device2",
    "device3",
  ]],
  ["SELECT TOP 2 * FROM devices", ["device1", "device2"]],
  ["select * from devices where tags.env = 'prod' or tags.env = 'test'", [
    "device1",
    "device2",
    "device3",
  ]],
  [
    "SELECT * FROM devices WHERE (tags.env = 'prod' OR tags.env = 'test') AND status <> 'enabled'",
    [],
  ],
  ["SELECT * FROM devices WHERE properties.desired.x = properties.reported.x", []],
  ["SELECT * FROM devices WHERE properties.reported.telemetryConfig.sendFrequencyInSecs / 60 = 2", [
    "device3",
  ]],
  ["SELECT * FROM devices WHERE properties.reported.telemetryConfig.sendFrequencyInSecs > -1", [
    "device1",
    "device2",
    "device3",
    "device4",
  ]],
];

Deno.test("the query examples of IoT Hub's docs select the twins they describe", async (t) => {
  for (const [query, expected] of SELECTIONS) {
    await t.step(query.replaceAll("\n", " "), () => assert.deepEqual(ids(query), expected));
  }
});

Deno.test("projections, COUNT() and GROUP BY answer as IoT Hub's docs show", async (t) => {
  await t.step("COUNT() of all devices", () => {
    assert.deepEqual(all("SELECT COUNT() as totalNumberOfDevices FROM devices"), [
      { totalNumberOfDevices: 5 },
    ]);
  });
  await t.step("COUNT() of nothing is 0", () => {
    assert.deepEqual(all("SELECT COUNT() AS n FROM devices WHERE tags.env = 'none'"), [{ n: 0 }]);
  });
  await t.step("devices by telemetry configuration status", () => {
    const query = "SELECT properties.reported.telemetryConfig.status AS status,\n" +
      "    COUNT() AS numberOfDevices\n  FROM devices\n" +
      "  GROUP BY properties.reported.telemetryConfig.status";
    assert.deepEqual(all(query), [
      { status: "Error", numberOfDevices: 1 },
      { status: "Pending", numberOfDevices: 1 },
      { status: "Success", numberOfDevices: 3 },
    ]);
  });
  await t.step("field names are matched case-insensitively and answered canonically", () => {
    const query = "SELECT DeviceId, LastActivityTime FROM devices " +
      "WHERE status = 'enabled' AND connectionState = 'Disconnected'";
    assert.deepEqual(all(query), [
      { deviceId: "device2", lastActivityTime: "2021-05-07T00:50:38.0543092Z" },
      { deviceId: "device3", lastActivityTime: "0001-01-01T00:00:00" },
      { deviceId: "device5", lastActivityTime: "0001-01-01T00:00:00" },
    ]);
  });
  await t.step("a nested path is named by its last segment, or its alias", () => {
    assert.deepEqual(
      all("SELECT deviceId, tags.location.plant FROM devices WHERE tags.env = 'prod'"),
      [
        { deviceId: "device1", plant: "Redmond43" },
        { deviceId: "device3", plant: "Dublin1" },
      ],
    );
    assert.deepEqual(all("SELECT tags.env AS e FROM devices WHERE deviceId = 'device2'"), [{
      e: "test",
    }]);
  });
  await t.step("AVG, SUM, MIN and MAX over numbers, unnamed ones as $1, $2", () => {
    const path = "properties.reported.telemetryConfig.sendFrequencyInSecs";
    assert.deepEqual(
      all(`SELECT AVG(${path}), SUM(${path}), MIN(${path}), MAX(${path}) FROM devices`),
      [
        { $1: 127.5, $2: 510, $3: 30, $4: 300 },
      ],
    );
  });
  await t.step("group by two paths; an Undefined group value is left out of its row", () => {
    assert.deepEqual(
      all("SELECT tags.env AS env, status, COUNT() AS n FROM devices GROUP BY tags.env, status"),
      [
        { env: "prod", status: "enabled", n: 2 },
        { env: "test", status: "enabled", n: 1 },
        { status: "disabled", n: 1 },
        { status: "enabled", n: 1 },
      ],
    );
  });
});

Deno.test("results are paged with a continuation token that survives fleet changes", async (t) => {
  await t.step("pages of two give every device once, in order", () => {
    assert.deepEqual(
      all("SELECT * FROM devices", 2).map((d) => (d as { deviceId: string }).deviceId),
      [
        "device1",
        "device2",
        "device3",
        "device4",
        "device5",
      ],
    );
  });
  await t.step("a device added before the cursor does not repeat one after it", () => {
    const ast = parseQuery("SELECT deviceId FROM devices");
    const first = runQuery(ast, rows(DEVICES), { pageSize: 2 });
    assert.deepEqual(first.items, [{ deviceId: "device1" }, { deviceId: "device2" }]);
    const grown = [...rows(DEVICES), { key: "device0", doc: { deviceId: "device0" } }];
    const second = runQuery(ast, grown, {
      pageSize: 2,
      continuationToken: first.continuationToken!,
    });
    assert.deepEqual(second.items, [{ deviceId: "device3" }, { deviceId: "device4" }]);
  });
  await t.step("TOP stops across pages", () => {
    assert.equal(all("SELECT TOP 3 * FROM devices", 2).length, 3);
  });
  await t.step("a token of another query, or garbage, is refused", () => {
    const page = runQuery(parseQuery("SELECT * FROM devices"), rows(DEVICES), { pageSize: 1 });
    assert.throws(
      () =>
        runQuery(parseQuery("SELECT deviceId FROM devices"), rows(DEVICES), {
          continuationToken: page.continuationToken!,
        }),
      ContinuationTokenError,
    );
    assert.throws(
      () => runQuery(parseQuery("SELECT * FROM devices"), [], { continuationToken: "%%%" }),
      ContinuationTokenError,
    );
  });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("nothing thrown");
}

/** [query, line, column, what the message says]. */
const ERRORS: [string, number, number, RegExp][] = [
  ["SELECT * FROM devices WHERE tags.env = ", 1, 40, /expected an expression .*found end of query/],
  ["SELECT * FROM device", 1, 15, /expected devices or devices\.modules/],
  ["SELECT * FROM devices.jobs", 1, 15, /devices\.jobs is not available/],
  ["SELECT * FROM devices WHERE tag.env = 'x'", 1, 29, /unknown twin field "tag" in devices/],
  ["SELECT * FROM devices WHERE moduleId = 'x'", 1, 29, /unknown twin field "moduleId"/],
  ["SELECT * FROM devices WHERE properties.report.x = 1", 1, 29, /unknown twin section/],
  ["SELECT * FROM devices\nWHERE foo(tags.x)", 2, 7, /unknown function foo.*IS_DEFINED/],
  ["SELECT deviceId, COUNT() FROM devices", 1, 8, /neither aggregated nor in GROUP BY/],
  ["SELECT * FROM devices GROUP BY tags.x", 1, 32, /SELECT \* cannot be grouped/],
  ["SELECT * FROM devices WHERE tags.x IN [tags.y]", 1, 40, /expected a constant/],
  ["SELECT * FROM devices WHERE STARTSWITH(deviceId)", 1, 48, /takes 2 arguments, not 1/],
  ["SELECT * FROM devices WHERE tags.x = TRUE", 1, 38, /literals are lower-case/],
  ["SELECT * FROM devices WHERE tags.x = 'open", 1, 38, /unterminated string/],
  ["SELECT * FROM devices WHERE tags.x!='a'", 1, 29, /write tags\.x != with a space/],
  [
    "SELECT * FROM devices WHERE tags.x = 1 tags.y = 2",
    1,
    40,
    /expected WHERE, GROUP BY or the end/,
  ],
  ["SELECT TOP 0 * FROM devices", 1, 12, /a whole number of rows after TOP/],
  [
    "SELECT * FROM devices WHERE $connectionDeviceId = 'a'",
    1,
    29,
    /system property, not a twin field/,
  ],
  ["SELECT COUNT() AS n, COUNT() AS n FROM devices", 1, 22, /two results are named "n"/],
];

Deno.test("a bad query is a QuerySyntaxError naming line and column", async (t) => {
  for (const [query, line, column, message] of ERRORS) {
    await t.step(query.replaceAll("\n", " "), () => {
      const error = thrown(() => parseQuery(query));
      assert.ok(error instanceof QuerySyntaxError, String(error));
      const { line: l, column: c, message: m } = error;
      assert.match(m, message);
      assert.match(m, /^Cannot parse query: /);
      assert.deepEqual([l, c], [line, column], m);
    });
  }
  await t.step("a query over 8192 characters", () => {
    const query = `SELECT * FROM devices WHERE ${"tags.a = 1 OR ".repeat(700)}tags.a = 1`;
    assert.throws(() => parseQuery(query), /over the limit/);
  });
});

Deno.test("a target condition is a bare condition over device twins", () => {
  const condition = parseCondition("tags.env='prod' and tags.location.region = 'EU'", {
    subject: "target condition",
  });
  assert.deepEqual(DEVICES.filter((doc) => holds(condition, doc)).map((doc) => doc.deviceId), [
    "device3",
  ]);
  assert.throws(
    () => parseCondition("tags.env = 'prod' AND", { subject: "target condition" }),
    /^QuerySyntaxError: Cannot parse target condition: expected an expression at line 1, column 22, found end of target condition$/,
  );
});
