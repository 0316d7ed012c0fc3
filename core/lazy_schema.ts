/**
 * Schemas built on first use. A zod schema costs 1-7 KB of V8 heap (an integer range: ~7 KB), and
 * one built at import stays for the life of the process: the schemas of the deployment manifest,
 * the fleet, the state files and the management API's bodies, which an idle daemon never parses,
 * held ~0.6 MB (measured on the bundle at idle). {@linkcode lazySchema} builds a schema the first
 * time anything reads it (a parse, a `.shape`, another schema that wraps it), then keeps it.
 */

/**
 * `build()`'s schema, built the first time one of its properties is read, then kept. It reads,
 * parses and composes as the schema itself: every read goes through the proxy to the built
 * schema, a few nanoseconds per schema a parse passes through (not on a message's path: the
 * schemas wrapped are those of API bodies, manifests, twins and state files).
 *
 * @example
 * ```ts
 * export const Rollout = lazySchema(() => z.object({ percent: z.number().min(0).max(100) }));
 * export type Rollout = z.infer<typeof Rollout>;
 * ```
 */
export function lazySchema<T extends object>(build: () => T): T {
  return new Proxy(new Unbuilt(build), UNBUILT_HANDLER) as unknown as T;
}

/** A {@linkcode lazySchema}'s proxy target: how to build the schema, and the schema once built. */
class Unbuilt {
  schema: object | undefined;
  constructor(readonly build: () => object) {}
}

function built(unbuilt: Unbuilt): object {
  return unbuilt.schema ??= unbuilt.build();
}

// One handler for every lazy schema: a handler of its own cost each schema ~3 KB of closures.
const UNBUILT_HANDLER: ProxyHandler<Unbuilt> = {
  get: (unbuilt, key) => Reflect.get(built(unbuilt), key),
  has: (unbuilt, key) => Reflect.has(built(unbuilt), key),
  set: (unbuilt, key, value) => Reflect.set(built(unbuilt), key, value),
  ownKeys: (unbuilt) => Reflect.ownKeys(built(unbuilt)),
  // Reported configurable: a proxy may not call a property non-configurable that its target
  // lacks.
  getOwnPropertyDescriptor: (unbuilt, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(built(unbuilt), key);
    return descriptor && { ...descriptor, configurable: true };
  },
  defineProperty: (unbuilt, key, descriptor) =>
    Reflect.defineProperty(built(unbuilt), key, descriptor),
  deleteProperty: (unbuilt, key) => Reflect.deleteProperty(built(unbuilt), key),
  getPrototypeOf: (unbuilt) => Reflect.getPrototypeOf(built(unbuilt)),
};
