/**
 * What the parent keeps about each device beyond the hub's twins: its tags (set by operators,
 * never sent to the device, as in IoT Hub) and the enrollment group it registered through.
 * Persisted as `<state>/fleet/devices.json`.
 *
 * Tags are updated by JSON merge patch (`null` deletes a key). Keys follow IoT Hub's twin rules:
 * no `.`, `$`, space or control characters, at most 1 KB each; at most 10 levels deep; the
 * whole tags object at most 32 KiB.
 *
 * @module
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { MAX_TWIN_SIDE_BYTES, mergePatch } from "../iothub/mod.ts";
import { type JsonFile, openJsonFile } from "./json_file.ts";

/** One device's record. */
export interface DeviceRecord {
  deviceId: string;
  tags: Record<string, unknown>;
  /** The enrollment group it registered through, if any. */
  enrollmentGroupId?: string | undefined;
}

const DevicesFile = lazySchema(() =>
  z.object({
    version: z.literal(1),
    devices: z.record(
      z.string(),
      z.object({
        deviceId: z.string(),
        tags: z.record(z.string(), z.unknown()),
        enrollmentGroupId: z.string().optional(),
      }),
    ),
  })
);
type DevicesFile = z.infer<typeof DevicesFile>;

/** A tags patch that breaks IoT Hub's rules. */
export class TagsError extends Error {
  override name = "TagsError";
}

const MAX_DEPTH = 10;
const MAX_KEY_BYTES = 1024;

/** Checks a tags patch; throws a {@linkcode TagsError} naming the offending key. */
export function checkTagsPatch(
  patch: unknown,
  path = "tags",
  depth = 1,
): asserts patch is Record<string, unknown> {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw new TagsError(`Cannot set ${path}: expected a JSON object`);
  }
  if (depth > MAX_DEPTH) {
    throw new TagsError(`Cannot set ${path}: tags nest at most ${MAX_DEPTH} levels`);
  }
  for (const [key, value] of Object.entries(patch)) {
    // deno-lint-ignore no-control-regex
    if (key === "" || /[.$ \u0000-\u001f\u007f-\u009f]/.test(key)) {
      throw new TagsError(
        `Cannot set ${path}.${key}: a tag name is not empty and has no ".", "$", space or control character`,
      );
    }
    if (new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES) {
      throw new TagsError(`Cannot set ${path}: a tag name is at most ${MAX_KEY_BYTES} bytes`);
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      checkTagsPatch(value, `${path}.${key}`, depth + 1);
    }
  }
}

/** The devices' records. */
export class DeviceRecords {
  readonly #file: JsonFile<DevicesFile>;

  private constructor(file: JsonFile<DevicesFile>) {
    this.#file = file;
  }

  /** Opens `<dir>/devices.json`. */
  static async open(dir: string): Promise<DeviceRecords> {
    const file = await openJsonFile(`${dir}/devices.json`, DevicesFile, () => ({
      version: 1 as const,
      devices: {},
    }));
    return new DeviceRecords(file);
  }

  /** The record of `deviceId` (ids case-insensitive), if any. */
  get(deviceId: string): DeviceRecord | undefined {
    return this.#file.value.devices[deviceId.toLowerCase()];
  }

  /** Every record. */
  all(): DeviceRecord[] {
    return Object.values(this.#file.value.devices);
  }

  /**
   * Merges `patch` into the tags of `deviceId`; resolves with the new tags once durable.
   * @throws {TagsError} when the patch breaks the tag rules or the tags grow over 32 KiB.
   */
  async patchTags(deviceId: string, patch: unknown): Promise<Record<string, unknown>> {
    checkTagsPatch(patch);
    const record = this.#record(deviceId);
    const tags = mergePatch(record.tags, patch);
    const bytes = new TextEncoder().encode(JSON.stringify(tags)).byteLength;
    if (bytes > MAX_TWIN_SIDE_BYTES) {
      throw new TagsError(
        `Cannot set tags of ${deviceId}: ${bytes} bytes, over the ${MAX_TWIN_SIDE_BYTES}-byte limit`,
      );
    }
    record.tags = tags;
    await this.#file.save();
    return tags;
  }

  /** Records a device registered through `group` with its initial tags. */
  async enrolled(deviceId: string, group: string, tags: Record<string, unknown>): Promise<void> {
    const record = this.#record(deviceId);
    record.enrollmentGroupId = group;
    record.tags = mergePatch(record.tags, tags);
    await this.#file.save();
  }

  /** Forgets `deviceId` (its identity was removed). */
  async remove(deviceId: string): Promise<void> {
    if (!this.get(deviceId)) return;
    delete this.#file.value.devices[deviceId.toLowerCase()];
    await this.#file.save();
  }

  #record(deviceId: string): DeviceRecord {
    const key = deviceId.toLowerCase();
    return this.#file.value.devices[key] ??= { deviceId, tags: {} };
  }
}
