/**
 * The identity registry, persisted as `<state>/identities.json` (0600: it holds SAS keys).
 * Lookups are O(1) through a map keyed by the lower-cased id; every change is written atomically
 * before its call resolves (changes close together share one write).
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { identityKey, identityLabel } from "../iothub/mod.ts";
import { Identity } from "./identity.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { CoalescedWrites } from "../core/coalesced_writes.ts";

/** Read access to the identities, as the hub and agent use it. */
export interface IdentityRegistry {
  /** The identity `deviceId[/moduleId]` (ids case-insensitive), or undefined. */
  get(deviceId: string, moduleId?: string): Identity | undefined;
  /** Every identity, devices before their modules, in name order. */
  list(): Identity[];
  /** The modules of `deviceId`. */
  modulesOf(deviceId: string): Identity[];
}

/** The registry with its writes (used inside security/). */
export interface MutableIdentityRegistry extends IdentityRegistry {
  /** Adds `identity`; throws when one with that id exists. */
  add(identity: Identity): Promise<void>;
  /** Removes `deviceId[/moduleId]` (a device's modules with it); resolves false when absent. */
  remove(deviceId: string, moduleId?: string): Promise<boolean>;
}

const RegistryFile = lazySchema(() =>
  z.strictObject({ version: z.literal(1), identities: z.array(Identity) })
);

/** An identity that exists already. */
export class IdentityExistsError extends Error {
  override name = "IdentityExistsError";
}

/**
 * Opens the registry at `path`, creating an empty one when the file is missing.
 *
 * @throws {Error} naming the file and the first invalid entry when it is corrupt (it is left as
 * it is).
 */
export async function openIdentityRegistry(path: string): Promise<MutableIdentityRegistry> {
  const byKey = new Map<string, Identity>();
  for (const identity of await readRegistryFile(path)) byKey.set(identityKey(identity), identity);

  // A burst of registrations (a thousand children enrolling) costs a few writes of the registry,
  // not a thousand ever larger ones, which were most of a parent's garbage and CPU time.
  const writes = new CoalescedWrites(() => {
    const snapshot = JSON.stringify({ version: 1, identities: [...byKey.values()] }, null, 2);
    return writeFileAtomic(path, snapshot + "\n", { mode: 0o600 });
  });
  const persist = () => writes.request();

  function sorted(identities: Iterable<Identity>): Identity[] {
    return [...identities].sort((a, b) =>
      identityLabel(a).toLowerCase().localeCompare(identityLabel(b).toLowerCase())
    );
  }

  return {
    get: (deviceId, moduleId) => byKey.get(identityKey({ deviceId, moduleId })),
    list: () => sorted(byKey.values()),
    modulesOf: (deviceId) =>
      sorted(
        [...byKey.values()].filter((identity) =>
          identity.moduleId !== undefined &&
          identity.deviceId.toLowerCase() === deviceId.toLowerCase()
        ),
      ),
    async add(identity) {
      const key = identityKey(identity);
      const existing = byKey.get(key);
      if (existing) {
        throw new IdentityExistsError(
          `Cannot add identity ${identityLabel(identity)}: ${identityLabel(existing)} exists`,
        );
      }
      byKey.set(key, Identity.parse(identity));
      try {
        await persist();
      } catch (error) {
        byKey.delete(key);
        throw error;
      }
    },
    async remove(deviceId, moduleId) {
      const key = identityKey({ deviceId, moduleId });
      const removed = new Map<string, Identity>();
      for (const [other, identity] of byKey) {
        if (other === key || (moduleId === undefined && other.startsWith(`${key}/`))) {
          removed.set(other, identity);
        }
      }
      if (removed.size === 0) return false;
      for (const other of removed.keys()) byKey.delete(other);
      try {
        await persist();
      } catch (error) {
        for (const [other, identity] of removed) byKey.set(other, identity);
        throw error;
      }
      return true;
    },
  };
}

/** The identities `path` holds; none when it does not exist. */
async function readRegistryFile(path: string): Promise<Identity[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot load ${path}: not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const parsed = RegistryFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Cannot load ${path}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data.identities;
}
