/** A message store in a temp dir for the hub's unit tests, removed afterwards. */
import { type MessageStore, openMessageStore } from "../store/mod.ts";

/** Runs `fn` with a fresh store (1 MiB per endpoint), then closes and removes it. */
export async function withTempStore(fn: (store: MessageStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-hub-store-" });
  const store = openMessageStore(`${dir}/queues.db`, { maxSizeBytes: 1 << 20 });
  try {
    await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
