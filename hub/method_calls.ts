/**
 * Direct method calls in flight: each request gets a request id (`$rid`), the reply on
 * `$iothub/methods/res/{status}/?$rid=…` from the same identity settles it, and a call with no
 * reply in time settles as 504.
 */

/** The result of a direct method call, as IoT Hub returns it. */
export interface MethodResult {
  status: number;
  payload: unknown;
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
          finish(rid, {
            status: 504,
            payload: { message: `Timed out waiting for the response from ${targetKey}` },
          });
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
          finish(rid, { status: 404, payload: { message: `${targetKey} disconnected` } });
        }
      }
    },
    close() {
      for (const rid of [...calls.keys()]) {
        finish(rid, { status: 503, payload: { message: "The hub is stopping" } });
      }
    },
    pending: () => calls.size,
  };
}
