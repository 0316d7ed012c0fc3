// The conformance table: route text, message, and whether the route fires or where it is
// rejected. A `route` without FROM is a condition, run as `FROM /messages/* WHERE … INTO
// $upstream`; its error columns count from the condition's first character.
import {
  DEVICE_TELEMETRY_SOURCE,
  type Message,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
} from "./message.ts";
import {
  deviceMessage,
  jsonMessage,
  rawMessage,
  SAMPLE,
  SAMPLE_APP,
  SAMPLE_BODY,
  utf16,
  utf32,
} from "./_test_messages.ts";

/** One row of the table. */
export interface ConformanceCase {
  theme: string;
  route: string;
  message: Message;
  /** The message source; `messageSource(message)` when absent. */
  source?: string;
  /** Whether the route fires; absent for rejected routes. */
  fires?: boolean;
  /** Where the route is rejected. */
  error?: { line: number; column: number };
}

const cases: ConformanceCase[] = [];
let theme = "";

function fires(route: string, message: Message = SAMPLE, source?: string): void {
  cases.push(
    source === undefined
      ? { theme, route, message, fires: true }
      : { theme, route, message, source, fires: true },
  );
}

function silent(route: string, message: Message = SAMPLE, source?: string): void {
  cases.push(
    source === undefined
      ? { theme, route, message, fires: false }
      : { theme, route, message, source, fires: false },
  );
}

function rejects(route: string, column: number, line = 1): void {
  cases.push({ theme, route, message: SAMPLE, error: { line, column } });
}

const twin = (body: unknown) =>
  jsonMessage(body, { system: { connectionModuleId: undefined, outputName: undefined } });
const withApp = (app: Record<string, string>) =>
  jsonMessage(SAMPLE_BODY, { app: { ...SAMPLE_APP, ...app } });
const withSystem = (system: Record<string, string | undefined>) =>
  jsonMessage(SAMPLE_BODY, { app: SAMPLE_APP, system });
const withoutOutput = jsonMessage({}, { system: { outputName: undefined } });

theme = "sources";
fires("FROM /* INTO $upstream");
fires("FROM /messages/* INTO $upstream");
fires("FROM /messages/modules/* INTO $upstream");
fires("FROM /messages/modules/sensor/* INTO $upstream");
silent("FROM /messages/modules/other/* INTO $upstream");
fires("FROM /messages/modules/sensor/outputs/* INTO $upstream");
fires("FROM /messages/modules/sensor/outputs/temp INTO $upstream");
silent("FROM /messages/modules/sensor/outputs/te INTO $upstream");
silent("FROM /messages/modules/sensor/outputs/temperature INTO $upstream");
silent("FROM /messages/modules/sens/* INTO $upstream");
fires("FROM /MESSAGES/Modules/SENSOR/outputs/TEMP INTO $upstream");
fires("FROM /messages/modules/sensor/outputs INTO $upstream");
fires("FROM /messages/modules/sensor/outputs/temp/ INTO $upstream");
fires("FROM /messages INTO $upstream");
silent("FROM /messages/events INTO $upstream");
fires("FROM /messages/events INTO $upstream", deviceMessage({}));
fires("FROM /messages/* INTO $upstream", deviceMessage({}));
silent("FROM /messages/modules/* INTO $upstream", deviceMessage({}));
fires("FROM /messages/modules/sensor/* INTO $upstream", withoutOutput);
silent("FROM /messages/modules/sensor/outputs/* INTO $upstream", withoutOutput);
fires("FROM /twinChangeNotifications INTO $upstream", twin({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
fires("FROM /twinchangenotifications INTO $upstream", twin({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
silent("FROM /twinChangeNotifications INTO $upstream");
silent("FROM /messages/* INTO $upstream", twin({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
fires("FROM /* INTO $upstream", twin({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
fires("FROM /messages/events INTO $upstream", SAMPLE, DEVICE_TELEMETRY_SOURCE);
rejects("FROM /mesages/* INTO $upstream", 6);
rejects("FROM /messages/modules/sensor* INTO $upstream", 6);
rejects("FROM messages/* INTO $upstream", 6);
rejects("FROM /messages/modules/a/outputs/b/c INTO $upstream", 6);
rejects("FROM /messages//modules/* INTO $upstream", 6);
rejects("FROM /messages/modules/a/inputs/b INTO $upstream", 6);
rejects("FROM INTO $upstream", 6);

theme = "sinks";
fires('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/inputs/in1")');
fires("FROM /messages/* INTO BrokeredEndpoint('/modules/filter/inputs/in1')");
fires('from /messages/* into brokeredendpoint("/modules/filter/inputs/in1")');
fires("FROM /messages/* INTO $UPSTREAM");
rejects("FROM /messages/* INTO $downstream", 23);
rejects("FROM /messages/* INTO upstream", 23);
rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/outputs/x")', 40);
rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/inputs/")', 40);
rejects("FROM /messages/* INTO BrokeredEndpoint(/modules/filter/inputs/in1)", 40);
rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/f/inputs/i"', 61);
rejects("FROM /messages/* INTO", 22);
rejects("FROM /messages/* INTO $upstream WHERE a = 'b'", 33);

theme = "literals";
fires("1 = 1");
silent("1 = 2");
fires("-5 < 0");
fires("007 = 7");
fires("0x1F = 31");
fires("0XfF = 255");
fires("0x7FFFFFFFFFFFFFFF > 0");
rejects("0x8000000000000000 > 0", 20);
fires("1.5 = 1.50");
fires(".5 = 0.5");
fires("-.5 < 0");
fires("1e3 = 1000");
fires("2.5E-1 = 0.25");
fires("-1.5e+2 = -150");
fires(`'abc' = "abc"`);
fires(`'it\\'s' = "it's"`);
fires(`"say \\"hi\\"" = 'say "hi"'`);
fires(`'\\u0041\\u00e9' = 'Aé'`);
fires(`'a\\\\b' = "a\\\\b"`);
silent("'a' = 'A'");
fires("true");
silent("false");
fires("NOT false");
fires("null = null");
silent("is_defined(undefined)");
fires("NOT is_defined(undefined)");
rejects("undefined", 1);
rejects("x = TRUE", 5);
rejects("False", 1);
rejects("'abc", 1);
rejects("'a\\qb' = 'a'", 3);

theme = "identifiers";
fires("processingPath = 'hot'");
fires("processingpath = 'hot'");
fires("PROCESSINGPATH = 'hot'");
silent("missing = 'x'");
fires("NOT is_defined(missing)");
fires("my-prop = 'x'");
fires("a.b = 'c'");
fires("-x = 'y'");
fires("$connectionDeviceId = 'dev1'");
fires("$ConnectionDeviceID = 'dev1'");
fires("$connectionModuleId = 'sensor'");
fires("$outputName = 'temp'");
fires("$messageId = 'm-1'");
fires("$contentType = 'application/json'");
fires("{$connectionModuleId} = 'sensor'");
fires("{ $connectionModuleId } = 'sensor'");
fires("$connectionModuleId = 'spoof'", withApp({ $connectionModuleId: "spoof" }));
fires("{$connectionModuleId} = 'sensor'", withApp({ $connectionModuleId: "spoof" }));
fires("$dt-subject = 'thermostat1'", withSystem({ componentName: "thermostat1" }));
fires("$componentName = 'thermostat1'", withSystem({ componentName: "thermostat1" }));
silent("$unknownProperty = 'x'");
fires("NOT is_defined($correlationId)");
fires("$body.machine.status = 'running'");
fires("$BODY.machine.status = 'running'");
fires("{$body.machine.status} = 'running'");
fires("$body.machine.status = 'stopped'", withApp({ "$body.machine.status": "stopped" }));
fires("{$body.machine.status} = 'running'", withApp({ "$body.machine.status": "stopped" }));
silent("$body.Machine.status = 'running'");
fires("$body.list[1] = 20");
fires("$body.list[2].x = 'deep'");
silent("$body.list[5] = 1");
fires("NOT is_defined($body.list)");
fires("NOT is_defined($body.machine)");
fires("$body.nested.a.b.c = 7");
rejects("$foo[0] = 'x'", 1);
rejects("$body.a..b = 1", 1);
rejects("$body. = 1", 1);
rejects("$twin.tags.floor = '1'", 1);
rejects("x!='a'", 1);
rejects("$connectionModuleId!='a'", 1);

theme = "operators";
fires("2 + 3 = 5");
fires("5 - 3 = 2");
fires("5 -3 = 2");
fires("2 * 3 = 6");
fires("7 / 2 = 3.5");
fires("7 % 3 = 1");
fires("-7 % 3 = -1");
fires("1 / 0 > 1000000");
fires("'a' || 'b' = 'ab'");
fires("processingPath || '!' = 'hot!'");
fires("$body.machine.temperature + 1 = 31");
fires("- $body.neg = 4");
fires("-(2) = -2");
fires("1 < 2");
fires("2 <= 2");
fires("3 > 2");
fires("3 >= 3");
fires("1 != 2");
fires("1 <> 2");
silent("2 < 1");
silent("2 <> 2");
fires("'abc' < 'abd'");
fires("'B' < 'a'");
fires("true = true");
fires("false < true");
fires("true != false");
fires("true AND true");
silent("true AND false");
fires("false OR true");
silent("false OR false");
fires("(missing ?? 'dflt') = 'dflt'");
fires("(processingPath ?? 'dflt') = 'hot'");
fires("($body.missing ?? 5) = 5");
silent("($body.nothing ?? 5) = 5");
fires("$body.missing ?? $body.flag");
rejects("NOT 1 = 2", 1);
rejects("'a' + 1 = 2", 5);
rejects("1 || 'a' = 'a'", 3);
rejects("1 AND true", 3);
rejects("- 'a' = 1", 1);

theme = "precedence";
fires("1 + 2 * 3 = 7");
fires("(1 + 2) * 3 = 9");
fires("10 - 4 - 3 = 3");
fires("2 * 3 % 4 = 2");
fires("12 / 2 / 3 = 2");
fires("1 + 1 < 3");
fires("1 < 2 = true");
fires("true = 1 < 2");
fires("false AND false OR true");
fires("true OR false AND false");
silent("NOT false AND false");
fires("NOT (false AND false)");
fires("- 2 * 3 = -6");
fires("-(2 + 3) = -5");
fires("'a' || 'b' || 'c' = 'abc'");
rejects("missing ?? 'x' = 'x'", 9);

theme = "undefined and three-valued logic";
silent("$body.missing > 1");
silent("NOT ($body.missing > 1)");
fires("$body.missing > 1 OR true");
fires("true OR $body.missing > 1");
fires("NOT ($body.missing > 1 AND false)");
silent("NOT ($body.missing > 1 OR false)");
silent("$body.name > 5");
silent("NOT ($body.name > 5)");
silent("$body.text5 = 5");
fires("as_number($body.text5) = 5");
fires("$body.flag");
silent("$body.off");
fires("NOT $body.off");
silent("$body.name");
silent("NOT $body.name");
silent("$body.flag AND $body.missing > 1");
fires("missing = 'x' OR true");
silent("NOT (missing = 'x')");
silent("$body.missing + 1 = 1");
silent("NOT ($body.missing || 'a' = 'a')");

theme = "null";
fires("null <= null");
silent("null < null");
silent("null != null");
fires("NOT null");
fires("$body.nothing = null");
silent("NOT ($body.nothing = 1)");
fires("NOT ($body.nothing AND true)");
fires("$body.nothing OR true");
fires("NOT ($body.nothing OR false)");
fires("is_null($body.nothing)");
fires("is_defined($body.nothing)");
rejects("null AND true", 6);

theme = "functions";
fires("abs(-2) = 2");
fires("abs($body.neg) = 4");
fires("NOT is_defined(abs($body.name))");
fires("exp(0) = 1");
fires("power(2, 10) = 1024");
fires("square(3) = 9");
fires("ceiling(1.2) = 2");
fires("ceiling(-1.2) = -1");
fires("floor(-1.5) = -2");
fires("sign(-3) = -1");
fires("sign(0) = 0");
fires("sign(2.5) = 1");
fires("sqrt(16) = 4");
fires("as_number('12.5') = 12.5");
fires("as_number(severity) = 3");
fires("as_number(' 1,000 ') = 1000");
fires("as_number('(5)') = -5");
fires("as_number('1e2') = 100");
fires("NOT is_defined(as_number('abc'))");
fires("as_number(7) = 7");
fires("is_bool(true)");
fires("is_bool($body.flag)");
fires("NOT is_bool(1)");
fires("is_number($body.zero)");
fires("is_string(processingPath)");
fires("NOT is_string(missing)");
fires("is_defined(processingPath)");
fires("is_null(null)");
fires("NOT is_null($body.missing)");
fires("concat('a', 'b', 'c') = 'abc'");
fires("concat(processingPath, '-', $connectionModuleId) = 'hot-sensor'");
fires("NOT is_defined(concat('a', missing))");
fires("length('hello') = 5");
fires("length($body.name) = 9");
fires("NOT is_defined(length($body.machine.temperature))");
fires("lower('ABC') = 'abc'");
fires("upper(processingPath) = 'HOT'");
fires("substring('hello', 1) = 'ello'");
fires("substring('hello', 1, 3) = 'ell'");
fires("substring('hello', 0, 5) = 'hello'");
fires("substring('hello', 1.9, 2) = 'el'");
fires("NOT is_defined(substring('hello', 3, 5))");
fires("NOT is_defined(substring('hello', -1))");
fires("index_of('hello', 'l') = 2");
fires("index_of('hello', 'z') = -1");
fires("starts_with('hello', 'he')");
fires("ends_with('hello', 'lo')");
fires("contains('hello', 'ell')");
fires("NOT contains('hello', 'xyz')");
fires("starts_with($body.name, 'Sensor')");
fires("IS_DEFINED(processingPath)");
fires("Lower('A') = 'a'");
const twinPatch = twin({
  version: 3,
  properties: { desired: { telemetryConfig: { sendFrequency: 15 }, x: null } },
});
fires(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.desired.telemetryConfig) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
fires(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.desired.x) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
silent(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.reported.x) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
fires(
  "FROM /twinChangeNotifications WHERE NOT twin_change_includes(tags.location) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
rejects("twin_change_includes(properties.desired.x)", 1);
rejects("FROM /twinChangeNotifications WHERE twin_change_includes(foo.bar) INTO $upstream", 37);
rejects("foo(1) = 1", 1);
rejects("is_array($body.list)", 1);
rejects("abs(1, 2) = 1", 1);
rejects("power(2) = 4", 1);
rejects("substring('a') = 'a'", 1);
rejects("concat('a') = 'a'", 1);
rejects("lower(1) = '1'", 7);
rejects("abs('x') = 1", 5);
rejects("as_number(true) = 1", 11);
rejects("length(null) = 0", 8);

theme = "body content type and encoding";
const statusJson = '{"machine":{"status":"running"}}';
const module = { connectionModuleId: "sensor", outputName: "temp" };
const isRunning = "$body.machine.status = 'running'";
fires(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "APPLICATION/JSON", contentEncoding: "UTF-8" }),
);
silent(isRunning, rawMessage(statusJson, { ...module, contentType: "application/json" }));
silent(isRunning, rawMessage(statusJson, { ...module, contentEncoding: "utf-8" }));
silent(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "text/plain", contentEncoding: "utf-8" }),
);
silent(
  isRunning,
  rawMessage(statusJson, {
    ...module,
    contentType: "application/json; charset=utf-8",
    contentEncoding: "utf-8",
  }),
);
silent(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "application/json", contentEncoding: "ascii" }),
);
fires(
  "NOT is_defined($body.machine.status)",
  rawMessage(statusJson, { ...module, contentType: "text/plain" }),
);
fires(
  isRunning,
  rawMessage(utf16(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-16",
  }),
);
fires(
  isRunning,
  rawMessage(utf16(statusJson, true, true), {
    ...module,
    contentType: "application/json",
    contentEncoding: "UTF-16",
  }),
);
fires(
  isRunning,
  rawMessage(utf32(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
fires(
  isRunning,
  rawMessage(utf32(statusJson, true, true), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
fires(
  isRunning,
  rawMessage("\ufeff" + statusJson, {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }),
);
fires(
  "$body.name = 'Zürich ✓'",
  rawMessage(utf32('{"name":"Zürich ✓"}'), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
silent(
  isRunning,
  rawMessage(utf16(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }),
);
fires(
  "NOT is_defined($body.machine)",
  rawMessage("{not json", { ...module, contentType: "application/json", contentEncoding: "utf-8" }),
);
fires(
  "NOT is_defined($body.a)",
  rawMessage("[1,2]", { ...module, contentType: "application/json", contentEncoding: "utf-8" }),
);
fires(
  "processingPath = 'hot'",
  rawMessage("not json at all", {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }, SAMPLE_APP),
);

theme = "keywords, comments and layout";
fires("select * from /messages/* where true into $upstream");
fires("SELECT * FROM /messages/* INTO $upstream");
fires("Select * From /messages/* Where true Into $upstream");
fires("1 = 1 and 2 = 2");
fires("1 = 2 Or 2 = 2");
fires("nOt false");
fires("/* leading */ 1 = 1 /* trailing */");
fires("FROM /messages/* /* no condition */ INTO $upstream");
fires("FROM /messages/*\n  WHERE $body.machine.temperature > 25\n  INTO $upstream");
fires("FROM\t/messages/*\tWHERE\ttrue\tINTO\t$upstream");
fires("FROM /messages/* WHERE (((1 = 1))) INTO $upstream");
rejects("SELECT FROM /messages/* INTO $upstream", 8);
rejects("FROM /messages/* WHERE INTO $upstream", 24);
rejects("FROM /messages/* WHERE 1 = 1 INT $upstream", 30);
rejects("FROM /messages/*\n  WHERE a = 1\n  INT $upstream", 3, 3);
rejects("(1 = 1", 8);
rejects("1 = 1)", 6);
rejects("1 == 1", 4);
rejects("a = 'x' && b = 'y'", 9);
rejects("1 = 1 /* open", 7);
rejects("1 = 1 ; 2", 7);

theme = "IoT Edge documentation examples";
const edgeBody = {
  ambient: { temperature: 54.3421, humidity: 25 },
  machine: { status: "running", temperature: 62.2214 },
};
silent(
  'FROM /messages/* WHERE $body.machine.status != "running" INTO $upstream',
  jsonMessage(edgeBody),
);
fires(
  'FROM /messages/* WHERE $body.machine.status != "running" INTO $upstream',
  jsonMessage({ ...edgeBody, machine: { status: "stopped", temperature: 20 } }),
);
fires(
  "FROM /messages/* WHERE $body.ambient.temperature <= 60 AND $body.machine.temperature >= 60 INTO $upstream",
  jsonMessage(edgeBody),
);
silent(
  "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream",
  jsonMessage(edgeBody),
);
fires(
  "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream",
  deviceMessage(edgeBody),
);
fires(
  'FROM /messages/modules/tempSensor/outputs/temperatureOutput INTO BrokeredEndpoint("/modules/filtermodule/inputs/input1")',
  jsonMessage(edgeBody, {
    system: { connectionModuleId: "tempSensor", outputName: "temperatureOutput" },
  }),
);
fires(
  "FROM /messages/modules/filtermodule/outputs/output1 INTO $upstream",
  jsonMessage(edgeBody, { system: { connectionModuleId: "filtermodule", outputName: "output1" } }),
);
fires(
  "FROM /messages/modules/sensor/outputs/temp WHERE $body.machine.temperature > 25 AND $connectionModuleId = 'sensor' " +
    'INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
  jsonMessage(edgeBody),
);

theme = "IoT Hub documentation examples";
const weather = {
  Weather: {
    Temperature: 50,
    Time: "2017-03-09T00:00:00.000Z",
    PrevTemperatures: [20, 30, 40],
    IsEnabled: true,
    Location: { Street: "One Microsoft Way", City: "Redmond", State: "WA" },
    HistoricalData: [{ Month: "Feb", Temperature: 40 }, { Month: "Jan", Temperature: 30 }],
  },
};
const weatherMessage = jsonMessage(weather, {
  app: { processingPath: "hot", Status: "Active" },
  system: { contentEncoding: "UTF-8" },
});
fires("$contentEncoding = 'UTF-8'", weatherMessage);
silent("$contentEncoding = 'UTF-8'");
fires("processingPath = 'hot'", weatherMessage);
fires("$contentEncoding = 'UTF-8' AND processingPath = 'hot'", weatherMessage);
fires("$body.Weather.HistoricalData[0].Month = 'Feb'", weatherMessage);
fires("$body.Weather.Temperature = 50 AND $body.Weather.IsEnabled", weatherMessage);
fires("length($body.Weather.Location.State) = 2", weatherMessage);
fires("$body.Weather.Temperature = 50 AND processingPath = 'hot'", weatherMessage);
fires("$body.Weather.PrevTemperatures[2] = 40", weatherMessage);
fires("Status = 'Active'", weatherMessage);
const desiredPatch = twin({ properties: { desired: { telemetryConfig: { sendFrequency: 15 } } } });
fires(
  "FROM /twinChangeNotifications WHERE $body.properties.desired.telemetryConfig.sendFrequency > 10 INTO $upstream",
  desiredPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
fires(
  "FROM /twinChangeNotifications WHERE is_defined($body.properties.desired.telemetryConfig.sendFrequency) INTO $upstream",
  desiredPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
rejects("$body[0] = 'Feb'", 1);
rejects("$twin.properties.desired.telemetryConfig.sendFrequency = '5m'", 1);

/** Every conformance case. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = cases;
