// Conformance rows about the route as a whole: sources, sinks, layout, body decoding, and
// the examples of the IoT Edge and IoT Hub documentation.
import { DEVICE_TELEMETRY_SOURCE, TWIN_CHANGE_NOTIFICATIONS_SOURCE } from "../iothub/mod.ts";
import { CaseTable, type ConformanceCase, twinNotification } from "./_conformance_table.ts";
import {
  deviceMessage,
  jsonMessage,
  rawMessage,
  SAMPLE,
  SAMPLE_APP,
  utf16,
  utf32,
} from "./_test_messages.ts";

const t = new CaseTable();
const withoutOutput = jsonMessage({}, { system: { outputName: undefined } });

t.theme("sources");
t.fires("FROM /* INTO $upstream");
t.fires("FROM /messages/* INTO $upstream");
t.fires("FROM /messages/modules/* INTO $upstream");
t.fires("FROM /messages/modules/sensor/* INTO $upstream");
t.silent("FROM /messages/modules/other/* INTO $upstream");
t.fires("FROM /messages/modules/sensor/outputs/* INTO $upstream");
t.fires("FROM /messages/modules/sensor/outputs/temp INTO $upstream");
t.silent("FROM /messages/modules/sensor/outputs/te INTO $upstream");
t.silent("FROM /messages/modules/sensor/outputs/temperature INTO $upstream");
t.silent("FROM /messages/modules/sens/* INTO $upstream");
t.fires("FROM /MESSAGES/Modules/SENSOR/outputs/TEMP INTO $upstream");
t.fires("FROM /messages/modules/sensor/outputs INTO $upstream");
t.fires("FROM /messages/modules/sensor/outputs/temp/ INTO $upstream");
t.fires("FROM /messages INTO $upstream");
t.silent("FROM /messages/events INTO $upstream");
t.fires("FROM /messages/events INTO $upstream", deviceMessage({}));
t.fires("FROM /messages/* INTO $upstream", deviceMessage({}));
t.silent("FROM /messages/modules/* INTO $upstream", deviceMessage({}));
t.fires("FROM /messages/modules/sensor/* INTO $upstream", withoutOutput);
t.silent("FROM /messages/modules/sensor/outputs/* INTO $upstream", withoutOutput);
t.fires(
  "FROM /twinChangeNotifications INTO $upstream",
  twinNotification({}),
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.fires(
  "FROM /twinchangenotifications INTO $upstream",
  twinNotification({}),
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.silent("FROM /twinChangeNotifications INTO $upstream");
t.silent("FROM /messages/* INTO $upstream", twinNotification({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
t.fires("FROM /* INTO $upstream", twinNotification({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
t.fires("FROM /messages/events INTO $upstream", SAMPLE, DEVICE_TELEMETRY_SOURCE);
t.rejects("FROM /mesages/* INTO $upstream", 6);
t.rejects("FROM /messages/modules/sensor* INTO $upstream", 6);
t.rejects("FROM messages/* INTO $upstream", 6);
t.rejects("FROM /messages/modules/a/outputs/b/c INTO $upstream", 6);
t.rejects("FROM /messages//modules/* INTO $upstream", 6);
t.rejects("FROM /messages/modules/a/inputs/b INTO $upstream", 6);
t.rejects("FROM INTO $upstream", 6);

t.theme("sinks");
t.fires('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/inputs/in1")');
t.fires("FROM /messages/* INTO BrokeredEndpoint('/modules/filter/inputs/in1')");
t.fires('from /messages/* into brokeredendpoint("/modules/filter/inputs/in1")');
t.fires("FROM /messages/* INTO $UPSTREAM");
t.rejects("FROM /messages/* INTO $downstream", 23);
t.rejects("FROM /messages/* INTO upstream", 23);
t.rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/outputs/x")', 40);
t.rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/filter/inputs/")', 40);
t.rejects("FROM /messages/* INTO BrokeredEndpoint(/modules/filter/inputs/in1)", 40);
t.rejects('FROM /messages/* INTO BrokeredEndpoint("/modules/f/inputs/i"', 61);
t.rejects("FROM /messages/* INTO", 22);
t.rejects("FROM /messages/* INTO $upstream WHERE a = 'b'", 33);

t.theme("body content type and encoding");
const statusJson = '{"machine":{"status":"running"}}';
const module = { connectionModuleId: "sensor", outputName: "temp" };
const isRunning = "$body.machine.status = 'running'";
t.fires(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "APPLICATION/JSON", contentEncoding: "UTF-8" }),
);
t.silent(isRunning, rawMessage(statusJson, { ...module, contentType: "application/json" }));
t.silent(isRunning, rawMessage(statusJson, { ...module, contentEncoding: "utf-8" }));
t.silent(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "text/plain", contentEncoding: "utf-8" }),
);
t.silent(
  isRunning,
  rawMessage(statusJson, {
    ...module,
    contentType: "application/json; charset=utf-8",
    contentEncoding: "utf-8",
  }),
);
t.silent(
  isRunning,
  rawMessage(statusJson, { ...module, contentType: "application/json", contentEncoding: "ascii" }),
);
t.fires(
  "NOT is_defined($body.machine.status)",
  rawMessage(statusJson, { ...module, contentType: "text/plain" }),
);
t.fires(
  isRunning,
  rawMessage(utf16(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-16",
  }),
);
t.fires(
  isRunning,
  rawMessage(utf16(statusJson, true, true), {
    ...module,
    contentType: "application/json",
    contentEncoding: "UTF-16",
  }),
);
t.fires(
  isRunning,
  rawMessage(utf32(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
t.fires(
  isRunning,
  rawMessage(utf32(statusJson, true, true), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
t.fires(
  isRunning,
  rawMessage("\ufeff" + statusJson, {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }),
);
t.fires(
  "$body.name = 'Zürich ✓'",
  rawMessage(utf32('{"name":"Zürich ✓"}'), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-32",
  }),
);
t.silent(
  isRunning,
  rawMessage(utf16(statusJson), {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }),
);
t.fires(
  "NOT is_defined($body.machine)",
  rawMessage("{not json", { ...module, contentType: "application/json", contentEncoding: "utf-8" }),
);
t.fires(
  "NOT is_defined($body.a)",
  rawMessage("[1,2]", { ...module, contentType: "application/json", contentEncoding: "utf-8" }),
);
t.fires(
  "processingPath = 'hot'",
  rawMessage("not json at all", {
    ...module,
    contentType: "application/json",
    contentEncoding: "utf-8",
  }, SAMPLE_APP),
);

t.theme("keywords, comments and layout");
t.fires("select * from /messages/* where true into $upstream");
t.fires("SELECT * FROM /messages/* INTO $upstream");
t.fires("Select * From /messages/* Where true Into $upstream");
t.fires("1 = 1 and 2 = 2");
t.fires("1 = 2 Or 2 = 2");
t.fires("nOt false");
t.fires("/* leading */ 1 = 1 /* trailing */");
t.fires("FROM /messages/* /* no condition */ INTO $upstream");
t.fires("FROM /messages/*\n  WHERE $body.machine.temperature > 25\n  INTO $upstream");
t.fires("FROM\t/messages/*\tWHERE\ttrue\tINTO\t$upstream");
t.fires("FROM /messages/* WHERE (((1 = 1))) INTO $upstream");
t.rejects("SELECT FROM /messages/* INTO $upstream", 8);
t.rejects("FROM /messages/* WHERE INTO $upstream", 24);
t.rejects("FROM /messages/* WHERE 1 = 1 INT $upstream", 30);
t.rejects("FROM /messages/*\n  WHERE a = 1\n  INT $upstream", 3, 3);
t.rejects("(1 = 1", 8);
t.rejects("1 = 1)", 6);
t.rejects("1 == 1", 4);
t.rejects("a = 'x' && b = 'y'", 9);
t.rejects("1 = 1 /* open", 7);
t.rejects("1 = 1 ; 2", 7);

t.theme("IoT Edge documentation examples");
const edgeBody = {
  ambient: { temperature: 54.3421, humidity: 25 },
  machine: { status: "running", temperature: 62.2214 },
};
t.silent(
  'FROM /messages/* WHERE $body.machine.status != "running" INTO $upstream',
  jsonMessage(edgeBody),
);
t.fires(
  'FROM /messages/* WHERE $body.machine.status != "running" INTO $upstream',
  jsonMessage({ ...edgeBody, machine: { status: "stopped", temperature: 20 } }),
);
t.fires(
  "FROM /messages/* WHERE $body.ambient.temperature <= 60 AND $body.machine.temperature >= 60 INTO $upstream",
  jsonMessage(edgeBody),
);
t.silent(
  "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream",
  jsonMessage(edgeBody),
);
t.fires(
  "FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream",
  deviceMessage(edgeBody),
);
t.fires(
  'FROM /messages/modules/tempSensor/outputs/temperatureOutput INTO BrokeredEndpoint("/modules/filtermodule/inputs/input1")',
  jsonMessage(edgeBody, {
    system: { connectionModuleId: "tempSensor", outputName: "temperatureOutput" },
  }),
);
t.fires(
  "FROM /messages/modules/filtermodule/outputs/output1 INTO $upstream",
  jsonMessage(edgeBody, { system: { connectionModuleId: "filtermodule", outputName: "output1" } }),
);
t.fires(
  "FROM /messages/modules/sensor/outputs/temp WHERE $body.machine.temperature > 25 AND $connectionModuleId = 'sensor' " +
    'INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
  jsonMessage(edgeBody),
);

t.theme("IoT Hub documentation examples");
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
t.fires("$contentEncoding = 'UTF-8'", weatherMessage);
t.silent("$contentEncoding = 'UTF-8'");
t.fires("processingPath = 'hot'", weatherMessage);
t.fires("$contentEncoding = 'UTF-8' AND processingPath = 'hot'", weatherMessage);
t.fires("$body.Weather.HistoricalData[0].Month = 'Feb'", weatherMessage);
t.fires("$body.Weather.Temperature = 50 AND $body.Weather.IsEnabled", weatherMessage);
t.fires("length($body.Weather.Location.State) = 2", weatherMessage);
t.fires("$body.Weather.Temperature = 50 AND processingPath = 'hot'", weatherMessage);
t.fires("$body.Weather.PrevTemperatures[2] = 40", weatherMessage);
t.fires("Status = 'Active'", weatherMessage);
const desiredPatch = twinNotification({
  properties: { desired: { telemetryConfig: { sendFrequency: 15 } } },
});
t.fires(
  "FROM /twinChangeNotifications WHERE $body.properties.desired.telemetryConfig.sendFrequency > 10 INTO $upstream",
  desiredPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.fires(
  "FROM /twinChangeNotifications WHERE is_defined($body.properties.desired.telemetryConfig.sendFrequency) INTO $upstream",
  desiredPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.rejects("$body[0] = 'Feb'", 1);
t.rejects("$twin.properties.desired.telemetryConfig.sendFrequency = '5m'", 1);

/** Every conformance case. */
/** Rows about sources, sinks, layout, body decoding and documented examples. */
export const ROUTE_CASES: readonly ConformanceCase[] = t.cases;
