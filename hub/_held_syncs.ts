/**
 * Test helpers for the twin store's WAL syncs: a sync the test releases or fails by hand, and a
 * check that a promise is still pending.
 */
import type { SyncWal } from "./twin_store.ts";

/** A WAL sync the test releases (or fails) by hand, counting the syncs begun. */
export function heldSyncs() {
  const pending: { release: () => void; fail: (error: Error) => void }[] = [];
  let begun = 0;
  let wake: (() => void) | undefined;
  const sync: SyncWal = async (file) => {
    begun++;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    pending.push({ release: resolve, fail: reject });
    wake?.();
    await promise;
    await file.syncData();
  };
  return {
    sync,
    get begun() {
      return begun;
    },
    /** Settles the oldest sync waiting, once one has begun. */
    async next(): Promise<{ release: () => void; fail: (error: Error) => void }> {
      while (pending.length === 0) await new Promise<void>((resolve) => wake = resolve);
      return pending.shift()!;
    },
  };
}

/** Whether `promise` has settled by the time the turns queued now have run. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}
