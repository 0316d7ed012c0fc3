/**
 * The one wait of the tests: poll a probe until it gives an answer, with a deadline that names
 * what was awaited. Polling starts fast (10 ms) and backs off to 250 ms, so a quick condition is
 * seen at once and a slow one (a CLI call, an engine) is not hammered.
 */

/** How long `waitFor` waits and what it shows when it gives up. */
export interface WaitOptions {
  /** Deadline in milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Extra state shown in the timeout error. */
  describe?: () => unknown;
}

/** An answer a probe gives while it is still waiting. */
type NotYet = undefined | false;

/**
 * Resolves with the probe's first answer other than `undefined` or `false`. A probe that throws
 * counts as not yet; its last error is shown if the deadline passes.
 *
 * @param what what is awaited, for the error ("module m1 running")
 * @param probe checks once; may be async
 * @param options a deadline in milliseconds, or {@link WaitOptions}
 * @throws {Error} "Timed out after N ms waiting for <what>" with the last error and `describe()`
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | NotYet | Promise<T | NotYet>,
  options: number | WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 60_000, describe } = typeof options === "number"
    ? { timeoutMs: options }
    : options;
  const deadline = Date.now() + timeoutMs;
  let interval = 10;
  let lastError: unknown;
  for (;;) {
    try {
      const answer = await probe();
      if (answer !== undefined && answer !== false) return answer as Exclude<T, NotYet>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw timedOut(what, timeoutMs, lastError, describe);
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(250, interval * 1.5);
  }
}

function timedOut(
  what: string,
  timeoutMs: number,
  lastError: unknown,
  describe: (() => unknown) | undefined,
): Error {
  let message = `Timed out after ${timeoutMs} ms waiting for ${what}`;
  if (lastError !== undefined) message += `: ${lastError}`;
  if (describe) message += `: ${JSON.stringify(describe(), null, 1)}`;
  return new Error(message, { cause: lastError });
}
