/**
 * An in-memory hub and registry for the fleet's unit tests: twins with versions, sessions, and
 * the listeners the fleet subscribes to, as plain objects.
 */
import { mergePatch, type TwinProperties } from "../iothub/mod.ts";
import type { EnrollmentSource, Identity } from "../security/mod.ts";
import type { IdentityRef } from "../iothub/mod.ts";
import type { FleetHub } from "./twin_documents.ts";
import { createFleetComponent, type FleetComponent } from "./fleet_component.ts";
import { createLogger } from "../core/log.ts";
import { currentDefaultsContext, defaultConfig } from "../core/config.ts";

interface MemoryTwin {
  desired: TwinProperties;
  desiredVersion: number;
  reported: TwinProperties;
  reportedVersion: number;
}

function keyOf(ref: IdentityRef): string {
  return (ref.moduleId === undefined ? ref.deviceId : `${ref.deviceId}/${ref.moduleId}`)
    .toLowerCase();
}

/** A hub holding twins in memory. */
export class MemoryHub implements FleetHub {
  readonly twins = new Map<string, MemoryTwin>();
  readonly sessions = new Set<string>();
  readonly #clients = new Set<(identity: IdentityRef, connected: boolean) => void>();
  readonly #reported = new Set<(identity: IdentityRef, patch: TwinProperties) => void>();

  #twin(ref: IdentityRef): MemoryTwin {
    let twin = this.twins.get(keyOf(ref));
    if (!twin) {
      this.twins.set(
        keyOf(ref),
        twin = { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1 },
      );
    }
    return twin;
  }

  twinKeys(): string[] {
    return [...this.twins.keys()];
  }
  getTwin(ref: IdentityRef) {
    const twin = this.twins.get(keyOf(ref)) ??
      { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1 };
    return {
      desired: { ...twin.desired, $version: twin.desiredVersion },
      reported: { ...twin.reported, $version: twin.reportedVersion },
    };
  }
  patchDesired(ref: IdentityRef, patch: TwinProperties): number {
    const twin = this.#twin(ref);
    twin.desired = mergePatch(twin.desired, patch);
    return ++twin.desiredVersion;
  }
  isConnected(ref: IdentityRef): boolean {
    return this.sessions.has(keyOf(ref));
  }
  onClientChange(listener: (identity: IdentityRef, connected: boolean) => void) {
    this.#clients.add(listener);
    return () => void this.#clients.delete(listener);
  }
  onReportedPatch(listener: (identity: IdentityRef, patch: TwinProperties) => void) {
    this.#reported.add(listener);
    return () => void this.#reported.delete(listener);
  }

  /** A client connects (its session starts). */
  connect(ref: IdentityRef): void {
    this.sessions.add(keyOf(ref));
    this.#twin(ref);
    for (const listener of this.#clients) listener(ref, true);
  }

  /** A device's `$edgeAgent` reports on the version it holds: 200, or `code` with `description`. */
  report(
    deviceId: string,
    options: { code?: number; description?: string; version?: number } = {},
  ): void {
    const ref = { deviceId, moduleId: "$edgeAgent" };
    const twin = this.#twin(ref);
    const patch = {
      lastDesiredVersion: options.version ?? twin.desiredVersion,
      lastDesiredStatus: { code: options.code ?? 200, description: options.description ?? "" },
    };
    twin.reported = mergePatch(twin.reported, patch);
    twin.reportedVersion++;
    for (const listener of this.#reported) listener(ref, patch);
  }

  /** The modules the `$edgeAgent` desired properties of `deviceId` name. */
  modulesOf(deviceId: string): string[] {
    const desired = this.twins.get(`${deviceId}/$edgeagent`.toLowerCase())?.desired ?? {};
    return Object.keys((desired.modules ?? {}) as Record<string, unknown>).sort();
  }
}

/** A registered child edge device. */
export function edgeDevice(deviceId: string): Identity {
  return {
    deviceId,
    kind: "child-edge-device",
    generationId: "g1",
    auth: { type: "sas", primaryKey: btoa("k".repeat(32)), secondaryKey: btoa("k".repeat(32)) },
    createdAt: "2030-01-01T00:00:00Z",
  };
}

/** A started fleet over a memory hub with `devices` registered and connected. */
export async function startTestFleet(
  devices: string[],
  options: { now?: () => number } = {},
): Promise<
  {
    fleet: FleetComponent;
    hub: MemoryHub;
    identities: Identity[];
    dir: string;
    /** What the fleet handed the security manager (undefined once stopped). */
    enrollments: () => EnrollmentSource | undefined;
    stop: () => Promise<void>;
  }
> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-fleet-unit-" });
  const hub = new MemoryHub();
  const identities = devices.map(edgeDevice);
  for (const id of devices) hub.connect({ deviceId: id });
  const config = defaultConfig(currentDefaultsContext());
  let enrollments: EnrollmentSource | undefined;
  const fleet = createFleetComponent(
    {
      config: { ...config, device: { ...config.device, id: "parent" } },
      stateDir: dir,
      logger: createLogger({ level: "error" }),
    },
    {
      hub: () => hub,
      security: {
        registry: { get: () => undefined, list: () => identities, modulesOf: () => [] },
        setEnrollments: (source) => void (enrollments = source),
      },
      periodMs: 3_600_000,
      ...(options.now === undefined ? {} : { now: options.now }),
    },
  );
  await fleet.start(new AbortController().signal);
  return {
    fleet,
    hub,
    identities,
    dir,
    enrollments: () => enrollments,
    async stop() {
      await fleet.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
