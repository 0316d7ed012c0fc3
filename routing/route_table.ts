/**
 * A compiled set of routes, as declared under `$edgeHub` -> `routes` in a deployment manifest.
 * A table is an immutable value: the hub swaps its reference to install a new one.
 *
 * @module
 */
import { type Message, messageSource } from "../iothub/mod.ts";
import { MessageContext } from "./message_context.ts";
import { type CompiledRoute, compileRoute, type RouteCondition } from "./route_compiler.ts";
import type { Endpoint } from "./route_endpoint.ts";
import { normalizeSource } from "./route_source.ts";
import { inRoute, RouteSyntaxError } from "./route_syntax_error.ts";

/** Priority of a route that sets none: below every explicit priority (IoT Edge's value). */
export const DEFAULT_ROUTE_PRIORITY = 2_000_000_000;

/** A route in schema 1.1+ form. */
export interface RouteSpec {
  route: string;
  /** 0 (highest) to 9; {@link DEFAULT_ROUTE_PRIORITY} when absent. */
  priority?: number | undefined;
  /** Seconds a message may wait for this route's endpoint; 0 or absent: the hub's default. */
  timeToLiveSecs?: number | undefined;
}

/** The `routes` object of `$edgeHub`: schema 1.0 strings or 1.1+ {@link RouteSpec} objects. */
export type RoutesConfig = Record<string, string | RouteSpec>;

/** Options of {@link compileRoutes}. */
export interface CompileRoutesOptions {
  /** `$edgeHub` schemaVersion; "1.0" allows only route strings. Any form is accepted when absent. */
  schemaVersion?: string;
}

/** One endpoint a message goes to, with the priority and TTL of the route that won it. */
export interface RouteMatch {
  readonly endpoint: Endpoint;
  /** Stable key of {@link endpoint} (`$upstream`, `/modules/m/inputs/i`). */
  readonly endpointKey: string;
  /** 0 is highest; {@link DEFAULT_ROUTE_PRIORITY} when the route set none. */
  readonly priority: number;
  /** 0 means the hub's storeAndForward `timeToLiveSecs`. */
  readonly timeToLiveSecs: number;
  /** Name of the winning route in the manifest. */
  readonly routeName: string;
}

/** A named route of a table. */
export interface TableRoute extends CompiledRoute {
  readonly name: string;
  readonly priority: number;
  readonly timeToLiveSecs: number;
}

/** Compiled routes, matched against messages. */
export interface RouteTable {
  /** The routes in declaration order. */
  readonly routes: readonly TableRoute[];
  /**
   * The endpoints a message goes to: each endpoint once, even when several routes match it,
   * carrying the priority of the best matching route (lowest number; the first declared on a
   * tie) and that route's TTL. Entries are in the declaration order of the first matching
   * route to each endpoint.
   *
   * The array may be shared by the calls that give the same answer: read it, do not change it.
   *
   * @param source The message's source path; `messageSource(message)` when absent. Pass
   *   `TWIN_CHANGE_NOTIFICATIONS_SOURCE` for twin change notifications.
   */
  match(message: Message, source?: string): readonly RouteMatch[];
}

/**
 * Compiles every route of a manifest's `routes` object; one bad route fails the whole table.
 *
 * @throws {RouteSyntaxError} naming the route (`routes.<name>: ...`) with line and column.
 * @throws {RangeError} for a priority outside 0-9 or a negative or fractional TTL.
 * @throws {TypeError} for a route that is neither a string nor a {@link RouteSpec}.
 * @example
 * ```ts
 * const table = compileRoutes({
 *   toFilter: 'FROM /messages/modules/sensor/* INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
 *   toCloud: { route: "FROM /messages/* INTO $upstream", priority: 0, timeToLiveSecs: 86400 },
 * });
 * const endpoints = table.match({
 *   body: new Uint8Array(),
 *   appProperties: {},
 *   systemProperties: { connectionModuleId: "sensor", outputName: "temp" },
 * });
 * // [{ endpointKey: "/modules/filter/inputs/in1", ... }, { endpointKey: "$upstream", priority: 0, ... }]
 * ```
 */
export function compileRoutes(
  routes: RoutesConfig,
  options: CompileRoutesOptions = {},
): RouteTable {
  const compiled: TableRoute[] = [];
  const conditions: RouteCondition[] = [];
  const matches: RouteMatch[] = [];
  for (const [name, spec] of Object.entries(routes)) {
    const { text, priority, timeToLiveSecs } = readSpec(name, spec, options);
    let route: CompiledRoute;
    try {
      route = compileRoute(text);
    } catch (error) {
      throw error instanceof RouteSyntaxError ? inRoute(error, name) : error;
    }
    compiled.push(Object.freeze({ ...route, name, priority, timeToLiveSecs }));
    conditions.push(route.condition);
    matches.push(
      Object.freeze({
        endpoint: route.endpoint,
        endpointKey: route.endpointKey,
        priority,
        timeToLiveSecs,
        routeName: name,
      }),
    );
  }
  const unconditional = compiled.map((route) => route.checked.ast.condition === undefined);
  const plans = new SourcePlans(compiled.map((route) => route.source.prefix), unconditional);

  const match = (
    message: Message,
    source: string = messageSource(message),
  ): readonly RouteMatch[] => {
    const plan = plans.get(source, matches);
    if (plan.fixed !== undefined) return plan.fixed;
    if (plan.answers !== undefined) {
      // Few conditions: the answer is one of a few, kept by which conditions held.
      const context = new MessageContext(message);
      const conditional = plan.conditional;
      let outcome = 0;
      for (let bit = 0; bit < conditional.length; bit++) {
        if ((conditions[conditional[bit]!] as RouteCondition)(message, context)) {
          outcome |= 1 << bit;
        }
      }
      return plan.answers[outcome] ??= answerOf(plan, outcome, matches);
    }
    return matchEach(plan, message, conditions, matches);
  };
  return Object.freeze({ routes: Object.freeze(compiled), match });
}

/** Evaluates the conditions of `plan`'s candidates in order: the answer, in an array of its own. */
function matchEach(
  plan: SourcePlan,
  message: Message,
  conditions: readonly RouteCondition[],
  matches: readonly RouteMatch[],
): RouteMatch[] {
  let context: MessageContext | undefined;
  const results: RouteMatch[] = [];
  for (const i of plan.candidates) {
    if (!plan.unconditional[i]) {
      context ??= new MessageContext(message);
      if (!(conditions[i] as RouteCondition)(message, context)) continue;
    }
    addMatch(results, matches[i] as RouteMatch);
  }
  return results;
}

/**
 * The answer of `plan` when the conditions of `outcome`'s bits (of `plan.conditional`) held
 * (with no conditional candidate: its fixed answer), frozen.
 */
function answerOf(
  plan: Pick<SourcePlan, "candidates" | "unconditional" | "conditional">,
  outcome: number,
  matches: readonly RouteMatch[],
): readonly RouteMatch[] {
  const results: RouteMatch[] = [];
  for (const i of plan.candidates) {
    if (!plan.unconditional[i] && (outcome & (1 << plan.conditional.indexOf(i))) === 0) continue;
    addMatch(results, matches[i] as RouteMatch);
  }
  return Object.freeze(results);
}

/** Adds `candidate` to `results`, or replaces its endpoint's entry when it has a higher priority. */
function addMatch(results: RouteMatch[], candidate: RouteMatch): void {
  let j = 0;
  while (j < results.length && (results[j] as RouteMatch).endpointKey !== candidate.endpointKey) {
    j++;
  }
  if (j === results.length) results.push(candidate);
  else if (candidate.priority < (results[j] as RouteMatch).priority) results[j] = candidate;
}

/** Conditional candidates up to which a source's answers are kept by outcome (2^n of them). */
export const MAX_CACHED_CONDITIONS = 6;

/** The routes whose FROM accepts one source, and their answers. */
interface SourcePlan {
  /** Indexes of the routes whose FROM accepts the source, in declaration order. */
  readonly candidates: readonly number[];
  /** Per route index: it has no condition. */
  readonly unconditional: readonly boolean[];
  /** The answer when no candidate has a condition. */
  readonly fixed: readonly RouteMatch[] | undefined;
  /** The candidates with a condition; bit i of an outcome is the i-th one's. */
  readonly conditional: readonly number[];
  /**
   * Answers by outcome, filled as they occur, when there are at most
   * {@linkcode MAX_CACHED_CONDITIONS} conditional candidates (and some).
   */
  readonly answers: (readonly RouteMatch[] | undefined)[] | undefined;
}

/**
 * A table's routes by message source, worked out once per source: a sender's messages share
 * one source, so the prefix tests, and the whole answer for routes without WHERE, are reused.
 */
class SourcePlans {
  readonly #plans = new Map<string, SourcePlan>();

  constructor(
    private readonly prefixes: readonly string[],
    private readonly unconditional: readonly boolean[],
  ) {}

  get(source: string, matches: readonly RouteMatch[]): SourcePlan {
    let plan = this.#plans.get(source);
    if (plan !== undefined) return plan;
    const normalized = normalizeSource(source);
    const candidates: number[] = [];
    for (let i = 0; i < this.prefixes.length; i++) {
      if (normalized.startsWith(this.prefixes[i] as string)) candidates.push(i);
    }
    const conditional = candidates.filter((i) => !this.unconditional[i]);
    const routes = { candidates, unconditional: this.unconditional, conditional };
    plan = {
      ...routes,
      fixed: conditional.length === 0 ? answerOf(routes, 0, matches) : undefined,
      answers: conditional.length > 0 && conditional.length <= MAX_CACHED_CONDITIONS
        ? new Array(1 << conditional.length)
        : undefined,
    };
    // Sources are few (one per module output); a bound keeps a stream of odd ones from growing it.
    if (this.#plans.size >= 1024) this.#plans.clear();
    this.#plans.set(source, plan);
    return plan;
  }
}

function readSpec(
  name: string,
  spec: string | RouteSpec,
  options: CompileRoutesOptions,
): { text: string; priority: number; timeToLiveSecs: number } {
  if (typeof spec === "string") {
    return { text: spec, priority: DEFAULT_ROUTE_PRIORITY, timeToLiveSecs: 0 };
  }
  if (typeof spec !== "object" || spec === null || typeof spec.route !== "string") {
    throw new TypeError(
      `Cannot compile routes: routes.${name} must be a route string or {route, priority, timeToLiveSecs}`,
    );
  }
  if (options.schemaVersion === "1.0") {
    throw new TypeError(
      `Cannot compile routes: routes.${name} is an object, but schemaVersion 1.0 allows only route strings`,
    );
  }
  const priority = spec.priority ?? DEFAULT_ROUTE_PRIORITY;
  if (
    priority !== DEFAULT_ROUTE_PRIORITY &&
    !(Number.isInteger(priority) && priority >= 0 && priority <= 9)
  ) {
    throw new RangeError(
      `Cannot compile routes: routes.${name}.priority must be an integer from 0 to 9, got ${priority}`,
    );
  }
  const timeToLiveSecs = spec.timeToLiveSecs ?? 0;
  if (!Number.isInteger(timeToLiveSecs) || timeToLiveSecs < 0 || timeToLiveSecs > 0xffff_ffff) {
    throw new RangeError(
      `Cannot compile routes: routes.${name}.timeToLiveSecs must be a whole number of seconds, got ${timeToLiveSecs}`,
    );
  }
  return { text: spec.route, priority, timeToLiveSecs };
}
