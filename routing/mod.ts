/**
 * The IoT Edge route language: every route string that works in an IoT Edge `$edgeHub`
 * manifest, parsed by a hand-written parser and compiled once to plain functions.
 *
 * ```
 * [SELECT *] FROM <source> [WHERE <condition>] INTO <sink>
 * ```
 *
 * - Sources: `/*`, `/messages/*`, `/messages/events`, `/messages/modules/*`,
 *   `/messages/modules/{m}/*`, `/messages/modules/{m}/outputs/*`,
 *   `/messages/modules/{m}/outputs/{o}`, `/twinChangeNotifications`; matched by
 *   case-insensitive path prefix against {@link messageSource}.
 * - Sinks: `$upstream`, `BrokeredEndpoint("/modules/{m}/inputs/{i}")`.
 * - Conditions: IoT Hub's routing query language with its Undefined semantics; a route fires
 *   only when its condition is exactly `true`.
 *
 * A typo is a {@link RouteSyntaxError} with the line and column, never a silent route that
 * does not fire. Besides what IoT Edge rejects, ledge rejects a few routes IoT Edge accepts
 * but that can never fire: an unknown source, a wildcard inside a segment
 * (`/messages/modules/sensor*`), an upper-case literal (`TRUE`, which IoT Edge reads as a
 * property name), `name!='x'` written without a space (IoT Edge reads the property `name!`),
 * text after the sink, and a condition that is not boolean.
 *
 * @example
 * ```ts
 * import { compileRoutes } from "./mod.ts";
 *
 * const table = compileRoutes({
 *   hot: "FROM /messages/modules/sensor/outputs/temp WHERE $body.machine.temperature > 25 " +
 *     "AND $connectionModuleId = 'sensor' INTO BrokeredEndpoint(\"/modules/filter/inputs/in1\")",
 *   cloud: { route: "FROM /messages/* INTO $upstream", priority: 0, timeToLiveSecs: 86400 },
 * });
 * const endpoints = table.match({
 *   body: new TextEncoder().encode('{"machine":{"temperature":30}}'),
 *   appProperties: {},
 *   systemProperties: {
 *     connectionModuleId: "sensor",
 *     outputName: "temp",
 *     contentType: "application/json",
 *     contentEncoding: "utf-8",
 *   },
 * });
 * // endpoints: /modules/filter/inputs/in1 (priority 2000000000), $upstream (priority 0)
 * ```
 *
 * @module
 */
export {
  DEVICE_TELEMETRY_SOURCE,
  type Message,
  messageSource,
  SYSTEM_PROPERTY_NAMES,
  type SystemPropertyName,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
} from "../iothub/mod.ts";
export { MessageContext } from "./message_context.ts";
export { type Endpoint, endpointKey } from "./route_endpoint.ts";
export { type CompiledRoute, compileRoute, type RouteCondition } from "./route_compiler.ts";
export { type RouteSource } from "./route_source.ts";
export { RouteSyntaxError } from "./route_syntax_error.ts";
// The pieces IoT Hub's twin query language shares with routes (fleet/ builds on them).
export { type LexerOptions, RouteLexer, type Token, type TokenKind } from "./route_lexer.ts";
export {
  type ErrorAt,
  LanguageSyntaxError,
  lineColumn,
  type SyntaxErrorDetails,
  syntaxErrorMessage,
} from "./syntax_error.ts";
export {
  andValues,
  ARITHMETIC,
  type ArithmeticOperator,
  type ComparisonOperator,
  COMPARISONS,
  notValue,
  orValues,
  type Value,
} from "./route_value.ts";
export {
  compileRoutes,
  type CompileRoutesOptions,
  DEFAULT_ROUTE_PRIORITY,
  type RouteMatch,
  type RoutesConfig,
  type RouteSpec,
  type RouteTable,
  type TableRoute,
} from "./route_table.ts";
