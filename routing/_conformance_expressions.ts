// Conformance rows about conditions: literals, identifiers, operators, precedence, Undefined
// and null, and every built-in function.
import { TWIN_CHANGE_NOTIFICATIONS_SOURCE } from "../iothub/mod.ts";
import {
  CaseTable,
  type ConformanceCase,
  twinNotification,
  withApp,
  withSystem,
} from "./_conformance_table.ts";

const t = new CaseTable();

t.theme("literals");
t.fires("1 = 1");
t.silent("1 = 2");
t.fires("-5 < 0");
t.fires("007 = 7");
t.fires("0x1F = 31");
t.fires("0XfF = 255");
t.fires("0x7FFFFFFFFFFFFFFF > 0");
t.rejects("0x8000000000000000 > 0", 20);
t.fires("1.5 = 1.50");
t.fires(".5 = 0.5");
t.fires("-.5 < 0");
t.fires("1e3 = 1000");
t.fires("2.5E-1 = 0.25");
t.fires("-1.5e+2 = -150");
t.fires(`'abc' = "abc"`);
t.fires(`'it\\'s' = "it's"`);
t.fires(`"say \\"hi\\"" = 'say "hi"'`);
t.fires(`'\\u0041\\u00e9' = 'Aé'`);
t.fires(`'a\\\\b' = "a\\\\b"`);
t.silent("'a' = 'A'");
t.fires("true");
t.silent("false");
t.fires("NOT false");
t.fires("null = null");
t.silent("is_defined(undefined)");
t.fires("NOT is_defined(undefined)");
t.rejects("undefined", 1);
t.rejects("x = TRUE", 5);
t.rejects("False", 1);
t.rejects("'abc", 1);
t.rejects("'a\\qb' = 'a'", 3);

t.theme("identifiers");
t.fires("processingPath = 'hot'");
t.fires("processingpath = 'hot'");
t.fires("PROCESSINGPATH = 'hot'");
t.silent("missing = 'x'");
t.fires("NOT is_defined(missing)");
t.fires("my-prop = 'x'");
t.fires("a.b = 'c'");
t.fires("-x = 'y'");
t.fires("$connectionDeviceId = 'dev1'");
t.fires("$ConnectionDeviceID = 'dev1'");
t.fires("$connectionModuleId = 'sensor'");
t.fires("$outputName = 'temp'");
t.fires("$messageId = 'm-1'");
t.fires("$contentType = 'application/json'");
t.fires("{$connectionModuleId} = 'sensor'");
t.fires("{ $connectionModuleId } = 'sensor'");
t.fires("$connectionModuleId = 'spoof'", withApp({ $connectionModuleId: "spoof" }));
t.fires("{$connectionModuleId} = 'sensor'", withApp({ $connectionModuleId: "spoof" }));
t.fires("$dt-subject = 'thermostat1'", withSystem({ componentName: "thermostat1" }));
t.fires("$componentName = 'thermostat1'", withSystem({ componentName: "thermostat1" }));
t.silent("$unknownProperty = 'x'");
t.fires("NOT is_defined($correlationId)");
t.fires("$body.machine.status = 'running'");
t.fires("$BODY.machine.status = 'running'");
t.fires("{$body.machine.status} = 'running'");
t.fires("$body.machine.status = 'stopped'", withApp({ "$body.machine.status": "stopped" }));
t.fires("{$body.machine.status} = 'running'", withApp({ "$body.machine.status": "stopped" }));
t.silent("$body.Machine.status = 'running'");
t.fires("$body.list[1] = 20");
t.fires("$body.list[2].x = 'deep'");
t.silent("$body.list[5] = 1");
t.fires("NOT is_defined($body.list)");
t.fires("NOT is_defined($body.machine)");
t.fires("$body.nested.a.b.c = 7");
t.rejects("$foo[0] = 'x'", 1);
t.rejects("$body.a..b = 1", 1);
t.rejects("$body. = 1", 1);
t.rejects("$twin.tags.floor = '1'", 1);
t.rejects("x!='a'", 1);
t.rejects("$connectionModuleId!='a'", 1);

t.theme("operators");
t.fires("2 + 3 = 5");
t.fires("5 - 3 = 2");
t.fires("5 -3 = 2");
t.fires("2 * 3 = 6");
t.fires("7 / 2 = 3.5");
t.fires("7 % 3 = 1");
t.fires("-7 % 3 = -1");
t.fires("1 / 0 > 1000000");
t.fires("'a' || 'b' = 'ab'");
t.fires("processingPath || '!' = 'hot!'");
t.fires("$body.machine.temperature + 1 = 31");
t.fires("- $body.neg = 4");
// IoT Edge's lexer takes `-$body.neg` as one application property name (its ID token allows `-`
// and `$`, and the longest token wins), so only a spaced or bracketed minus negates a body query.
t.fires("-($body.neg) = 4");
t.fires("0 - $body.neg = 4");
t.fires("- $body.neg * 2 = 8");
t.rejects("-$body.neg = 4", 12);
t.fires("-$body.neg = 'literal name'", withApp({ "-$body.neg": "literal name" }));
t.silent("-$body.neg = 'literal name'");
t.fires("-(2) = -2");
t.fires("1 < 2");
t.fires("2 <= 2");
t.fires("3 > 2");
t.fires("3 >= 3");
t.fires("1 != 2");
t.fires("1 <> 2");
t.silent("2 < 1");
t.silent("2 <> 2");
t.fires("'abc' < 'abd'");
t.fires("'B' < 'a'");
t.fires("true = true");
t.fires("false < true");
t.fires("true != false");
t.fires("true AND true");
t.silent("true AND false");
t.fires("false OR true");
t.silent("false OR false");
t.fires("(missing ?? 'dflt') = 'dflt'");
t.fires("(processingPath ?? 'dflt') = 'hot'");
t.fires("($body.missing ?? 5) = 5");
t.silent("($body.nothing ?? 5) = 5");
t.fires("$body.missing ?? $body.flag");
t.rejects("NOT 1 = 2", 1);
t.rejects("'a' + 1 = 2", 5);
t.rejects("1 || 'a' = 'a'", 3);
t.rejects("1 AND true", 3);
t.rejects("- 'a' = 1", 1);

t.theme("precedence");
t.fires("1 + 2 * 3 = 7");
t.fires("(1 + 2) * 3 = 9");
t.fires("10 - 4 - 3 = 3");
t.fires("2 * 3 % 4 = 2");
t.fires("12 / 2 / 3 = 2");
t.fires("1 + 1 < 3");
t.fires("1 < 2 = true");
t.fires("true = 1 < 2");
t.fires("false AND false OR true");
t.fires("true OR false AND false");
t.silent("NOT false AND false");
t.fires("NOT (false AND false)");
t.fires("- 2 * 3 = -6");
t.fires("-(2 + 3) = -5");
t.fires("'a' || 'b' || 'c' = 'abc'");
t.rejects("missing ?? 'x' = 'x'", 9);

t.theme("undefined and three-valued logic");
t.silent("$body.missing > 1");
t.silent("NOT ($body.missing > 1)");
t.fires("$body.missing > 1 OR true");
t.fires("true OR $body.missing > 1");
t.fires("NOT ($body.missing > 1 AND false)");
t.silent("NOT ($body.missing > 1 OR false)");
t.silent("$body.name > 5");
t.silent("NOT ($body.name > 5)");
t.silent("$body.text5 = 5");
t.fires("as_number($body.text5) = 5");
t.fires("$body.flag");
t.silent("$body.off");
t.fires("NOT $body.off");
t.silent("$body.name");
t.silent("NOT $body.name");
t.silent("$body.flag AND $body.missing > 1");
t.fires("missing = 'x' OR true");
t.silent("NOT (missing = 'x')");
t.silent("$body.missing + 1 = 1");
t.silent("NOT ($body.missing || 'a' = 'a')");

t.theme("null");
t.fires("null <= null");
t.silent("null < null");
t.silent("null != null");
t.fires("NOT null");
t.fires("$body.nothing = null");
t.silent("NOT ($body.nothing = 1)");
t.fires("NOT ($body.nothing AND true)");
t.fires("$body.nothing OR true");
t.fires("NOT ($body.nothing OR false)");
t.fires("is_null($body.nothing)");
t.fires("is_defined($body.nothing)");
t.rejects("null AND true", 6);

t.theme("functions");
t.fires("abs(-2) = 2");
t.fires("abs($body.neg) = 4");
t.fires("NOT is_defined(abs($body.name))");
t.fires("exp(0) = 1");
t.fires("power(2, 10) = 1024");
t.fires("square(3) = 9");
t.fires("ceiling(1.2) = 2");
t.fires("ceiling(-1.2) = -1");
t.fires("floor(-1.5) = -2");
t.fires("sign(-3) = -1");
t.fires("sign(0) = 0");
t.fires("sign(2.5) = 1");
t.fires("sqrt(16) = 4");
t.fires("as_number('12.5') = 12.5");
t.fires("as_number(severity) = 3");
t.fires("as_number(' 1,000 ') = 1000");
t.fires("as_number('(5)') = -5");
t.fires("as_number('1e2') = 100");
t.fires("NOT is_defined(as_number('abc'))");
t.fires("as_number(7) = 7");
t.fires("is_bool(true)");
t.fires("is_bool($body.flag)");
t.fires("NOT is_bool(1)");
t.fires("is_number($body.zero)");
t.fires("is_string(processingPath)");
t.fires("NOT is_string(missing)");
t.fires("is_defined(processingPath)");
t.fires("is_null(null)");
t.fires("NOT is_null($body.missing)");
t.fires("concat('a', 'b', 'c') = 'abc'");
t.fires("concat(processingPath, '-', $connectionModuleId) = 'hot-sensor'");
t.fires("NOT is_defined(concat('a', missing))");
t.fires("length('hello') = 5");
t.fires("length($body.name) = 9");
t.fires("NOT is_defined(length($body.machine.temperature))");
t.fires("lower('ABC') = 'abc'");
t.fires("upper(processingPath) = 'HOT'");
t.fires("substring('hello', 1) = 'ello'");
t.fires("substring('hello', 1, 3) = 'ell'");
t.fires("substring('hello', 0, 5) = 'hello'");
t.fires("substring('hello', 1.9, 2) = 'el'");
t.fires("NOT is_defined(substring('hello', 3, 5))");
t.fires("NOT is_defined(substring('hello', -1))");
t.fires("index_of('hello', 'l') = 2");
t.fires("index_of('hello', 'z') = -1");
t.fires("starts_with('hello', 'he')");
t.fires("ends_with('hello', 'lo')");
t.fires("contains('hello', 'ell')");
t.fires("NOT contains('hello', 'xyz')");
t.fires("starts_with($body.name, 'Sensor')");
t.fires("IS_DEFINED(processingPath)");
t.fires("Lower('A') = 'a'");
const twinPatch = twinNotification({
  version: 3,
  properties: { desired: { telemetryConfig: { sendFrequency: 15 }, x: null } },
});
t.fires(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.desired.telemetryConfig) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.fires(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.desired.x) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.silent(
  "FROM /twinChangeNotifications WHERE twin_change_includes(properties.reported.x) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.fires(
  "FROM /twinChangeNotifications WHERE NOT twin_change_includes(tags.location) INTO $upstream",
  twinPatch,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
);
t.rejects("twin_change_includes(properties.desired.x)", 1);
t.rejects("FROM /twinChangeNotifications WHERE twin_change_includes(foo.bar) INTO $upstream", 37);
t.rejects("foo(1) = 1", 1);
t.rejects("is_array($body.list)", 1);
t.rejects("abs(1, 2) = 1", 1);
t.rejects("power(2) = 4", 1);
t.rejects("substring('a') = 'a'", 1);
t.rejects("concat('a') = 'a'", 1);
t.rejects("lower(1) = '1'", 7);
t.rejects("abs('x') = 1", 5);
t.rejects("as_number(true) = 1", 11);
t.rejects("length(null) = 0", 8);

/** Rows about condition expressions. */
export const EXPRESSION_CASES: readonly ConformanceCase[] = t.cases;
