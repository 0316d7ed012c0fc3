/**
 * Direct method calls in flight: each request gets a request id (`$rid`), the reply on
 * `$iothub/methods/res/{status}/?$rid=...` from the same identity settles it, and a call with no
 * reply in time settles as 504.
 */

/** Why the hub itself answered a call, rather than the target. */
export type MethodFailure = "not-connected" | "timeout" | "disconnected" | "stopping";

/** The result of a direct method call, as IoT Hub returns it. */
export interface MethodResult {
  status: number;
  payload: unknown;
  /**
   * Set when the target never answered and the hub made this result (404, 504, 503), so callers
   * can tell it from a target that answered with the same status.
   */
  hubFailure?: MethodFailure;
}

/** A result the hub makes for a call the target did not answer. */
export function hubFailure(
  failure: MethodFailure,
  status: number,
  message: string,
): MethodResult {
  return { status, payload: { message }, hubFailure: failure };
}

/** Pending calls. */
export interface MethodCalls {
  /** Registers a call to `targetKey`; returns its rid and a promise of the result. */
  begin(targetKey: string, timeoutMs: number): { rid: string; result: Promise<MethodResult> };
  /** Settles the call `rid` if `fromKey` is its target; false for an unknown rid. */
  settle(fromKey: string, rid: string, result: MethodResult): boolean;
  /** Fails every call to `targetKey` (it disconnected). */
  abandon(targetKey: string): void;
  /** Settles everything with 503 (the hub is stopping). */
  close(): void;
  pending(): number;
}

interface Pending {
  targetKey: string;
  timer: ReturnType<typeof setTimeout>;
  resolve(result: MethodResult): void;
}

/** Creates the registry of pending calls. */
export function createMethodCalls(): MethodCalls {
  const calls = new Map<string, Pending>();
  let counter = 0;

  function finish(rid: string, result: MethodResult): boolean {
    const call = calls.get(rid);
    if (!call) return false;
    calls.delete(rid);
    clearTimeout(call.timer);
    call.resolve(result);
    return true;
  }

  return {
    begin(targetKey, timeoutMs) {
      const rid = (++counter).toString(16);
      const result = new Promise<MethodResult>((resolve) => {
        const timer = setTimeout(() => {
          finish(
            rid,
            hubFailure("timeout", 504, `timed out waiting for the response from ${targetKey}`),
          );
        }, timeoutMs);
        calls.set(rid, { targetKey, timer, resolve });
      });
      return { rid, result };
    },
    settle(fromKey, rid, result) {
      const call = calls.get(rid);
      if (!call || call.targetKey !== fromKey) return false;
      return finish(rid, result);
    },
    abandon(targetKey) {
      for (const [rid, call] of calls) {
        if (call.targetKey === targetKey) {
          finish(rid, hubFailure("disconnected", 404, `${targetKey} disconnected`));
        }
      }
    },
    close() {
      for (const rid of [...calls.keys()]) {
        finish(rid, hubFailure("stopping", 503, "the hub is stopping"));
      }
    },
    pending: () => calls.size,
  };
}
