/**
 * Enrollment groups (zero-touch enrollment, as DPS's symmetric-key group enrollments): a group
 * has a key; a device derives its own key from it and its id, and registers on its first connect
 * with the group's initial tags (and, for edge groups, deployment). Removing a group refuses new
 * registrations through it; devices registered already stay. Persisted as
 * `<state>/fleet/enrollments.json` (0600: it holds the group keys).
 *
 * @module
 */
import { z } from "zod";
import { lazySchema } from "../core/lazy_schema.ts";
import { enrollmentDeviceKey } from "../upstream/mod.ts";
import type { EnrollmentCandidate } from "../security/mod.ts";
import { type JsonFile, openJsonFile } from "./json_file.ts";

/** An enrollment group's id: as IoT Hub ids, 1-128 of A-Z a-z 0-9 - . _ : */
export const EnrollmentId = lazySchema(() =>
  z.string({ error: "expected a string" }).regex(
    /^[A-Za-z0-9][A-Za-z0-9\-._:]{0,127}$/,
    {
      error: "expected 1\u2013128 of A-Z a-z 0-9 - . _ : (starting with a letter or digit)",
    },
  )
);

/** The body of `POST /v1/fleet/enrollments`. */
export const EnrollmentRequest = lazySchema(() =>
  z.strictObject({
    id: EnrollmentId,
    /** Devices register as child edge devices (ledges) rather than leaf devices. */
    edge: z.boolean({ error: "expected true or false" }).default(false),
    /** Tags a device gets when it registers. */
    tags: z.record(z.string(), z.unknown(), { error: "expected a JSON object of tags" }).default(
      {},
    ),
    /** A deployment every device of the group gets, whatever its target condition. */
    deployment: z.string().min(1).optional(),
  })
);
/** An enrollment request. */
export type EnrollmentRequest = z.infer<typeof EnrollmentRequest>;

/** A stored enrollment group. */
export interface Enrollment extends EnrollmentRequest {
  /** Base64 group keys (a device may derive its key from either). */
  primaryKey: string;
  secondaryKey: string;
  createdTimeUtc: string;
  /** Devices registered through it. */
  registrations: number;
  lastRegistrationTimeUtc?: string;
}

const EnrollmentsFile = lazySchema(() =>
  z.object({
    version: z.literal(1),
    enrollments: z.array(z.custom<Enrollment>((value) => typeof value === "object")),
  })
);
type EnrollmentsFile = z.infer<typeof EnrollmentsFile>;

function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes));
}

/** The enrollment groups. */
export class EnrollmentStore {
  readonly #file: JsonFile<EnrollmentsFile>;

  private constructor(file: JsonFile<EnrollmentsFile>) {
    this.#file = file;
  }

  /** Opens `<dir>/enrollments.json`. */
  static async open(dir: string): Promise<EnrollmentStore> {
    const file = await openJsonFile(`${dir}/enrollments.json`, EnrollmentsFile, () => ({
      version: 1 as const,
      enrollments: [],
    }));
    return new EnrollmentStore(file);
  }

  list(): Enrollment[] {
    return [...this.#file.value.enrollments];
  }

  get(id: string): Enrollment | undefined {
    const lower = id.toLowerCase();
    return this.#file.value.enrollments.find((enrollment) => enrollment.id.toLowerCase() === lower);
  }

  /** Creates a group with fresh keys (the caller checked the id is free). */
  async add(request: EnrollmentRequest, now: Date): Promise<Enrollment> {
    const enrollment: Enrollment = {
      ...request,
      primaryKey: newKey(),
      secondaryKey: newKey(),
      createdTimeUtc: now.toISOString(),
      registrations: 0,
    };
    this.#file.value.enrollments.push(enrollment);
    await this.#file.save();
    return enrollment;
  }

  /** Removes a group; resolves false when absent. */
  async remove(id: string): Promise<boolean> {
    const before = this.#file.value.enrollments.length;
    const lower = id.toLowerCase();
    this.#file.value.enrollments = this.#file.value.enrollments.filter((e) =>
      e.id.toLowerCase() !== lower
    );
    if (this.#file.value.enrollments.length === before) return false;
    await this.#file.save();
    return true;
  }

  /** Counts a registration through `id`. */
  async registered(id: string, now: Date): Promise<void> {
    const enrollment = this.get(id);
    if (!enrollment) return;
    enrollment.registrations++;
    enrollment.lastRegistrationTimeUtc = now.toISOString();
    await this.#file.save();
  }

  /** The keys `deviceId` has under each group (both group keys). */
  candidates(deviceId: string): EnrollmentCandidate[] {
    return this.#file.value.enrollments.flatMap((enrollment) =>
      [enrollment.primaryKey, enrollment.secondaryKey].map((key) => ({
        group: enrollment.id,
        deviceKey: enrollmentDeviceKey(key, deviceId),
        edge: enrollment.edge,
      }))
    );
  }
}
