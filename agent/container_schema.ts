/**
 * The ContainerCreate fields ledge passes to a container engine (Docker Engine API v1.41, which
 * Podman's compatible service reads with the same Go types), each with its JSON kind. A field
 * that is not here is refused: the body sent to the engine is written from these fields only,
 * so nothing an engine adds (or reads from an unexpected place, such as Docker's deprecated
 * HostConfig fields at the top level) can slip past the policy.
 *
 * Taken only at their default (`"zero"`: empty, false, 0 - as a body copied from `docker
 * inspect` has them) and then left out: ContainerIDFile (a host file), VolumeDriver and Mounts'
 * DriverConfig (a volume driver's options can bind any host path), Annotations (read by the OCI
 * runtime), StorageOpt, the Blkio*Device lists (host device paths), CpuRealtime* (can starve the
 * host), Isolation, ConsoleSize and the IOMaximum* fields, AutoRemove (ledge manages the
 * container's life), and the EndpointSettings fields an engine only reports, and DriverOpts.
 * Unknown (refused whatever their value): Podman's EnvMerge/UnsetEnv/UnsetEnvAll, and anything
 * else not named here.
 */

/**
 * A field's JSON kind; `strslice` is a string or a list of strings (Go's StrSlice); `zero` is a
 * field taken only at its default value, and never passed on.
 */
export type Kind =
  | "string"
  | "int"
  | "bool"
  | "strslice"
  | "empty"
  | "zero"
  | { readonly list: Kind }
  | { readonly map: Kind }
  | { readonly struct: Readonly<Record<string, Kind>> };

/** The TypeScript type of a decoded value of kind `K`. */
export type Decoded<K> = K extends "string" ? string
  : K extends "int" ? number
  : K extends "bool" ? boolean
  : K extends "strslice" ? string[]
  : K extends "empty" ? Record<string, never>
  : K extends "zero" ? never
  : K extends { readonly list: infer E } ? Decoded<E>[]
  : K extends { readonly map: infer E } ? Record<string, Decoded<E>>
  : K extends { readonly struct: infer F } ? { -readonly [P in keyof F]?: Decoded<F[P]> }
  : never;

const strings = { list: "string" } as const;
const stringMap = { map: "string" } as const;
const emptyMap = { map: "empty" } as const;

const Healthcheck = {
  struct: {
    Test: strings,
    Interval: "int",
    Timeout: "int",
    StartPeriod: "int",
    StartInterval: "int",
    Retries: "int",
  },
} as const;

const Mount = {
  struct: {
    Type: "string",
    Source: "string",
    Target: "string",
    ReadOnly: "bool",
    Consistency: "string",
    BindOptions: { struct: { Propagation: "string", NonRecursive: "bool" } },
    VolumeOptions: { struct: { NoCopy: "bool", Labels: stringMap, DriverConfig: "zero" } },
    TmpfsOptions: { struct: { SizeBytes: "int", Mode: "int" } },
  },
} as const;

const HostConfig = {
  struct: {
    Binds: strings,
    LogConfig: { struct: { Type: "string", Config: stringMap } },
    NetworkMode: "string",
    PortBindings: { map: { list: { struct: { HostIp: "string", HostPort: "string" } } } },
    RestartPolicy: { struct: { Name: "string", MaximumRetryCount: "int" } },
    VolumesFrom: strings,
    CapAdd: "strslice",
    CapDrop: "strslice",
    CgroupnsMode: "string",
    Dns: strings,
    DnsOptions: strings,
    DnsSearch: strings,
    ExtraHosts: strings,
    GroupAdd: strings,
    IpcMode: "string",
    Cgroup: "string",
    Links: strings,
    OomScoreAdj: "int",
    PidMode: "string",
    Privileged: "bool",
    PublishAllPorts: "bool",
    ReadonlyRootfs: "bool",
    SecurityOpt: strings,
    Tmpfs: stringMap,
    UTSMode: "string",
    UsernsMode: "string",
    ShmSize: "int",
    Sysctls: stringMap,
    Runtime: "string",
    Init: "bool",
    Mounts: { list: Mount },
    MaskedPaths: strings,
    ReadonlyPaths: strings,
    // Resources
    CpuShares: "int",
    Memory: "int",
    NanoCpus: "int",
    CgroupParent: "string",
    BlkioWeight: "int",
    CpuPeriod: "int",
    CpuQuota: "int",
    CpusetCpus: "string",
    CpusetMems: "string",
    Devices: {
      list: {
        struct: { PathOnHost: "string", PathInContainer: "string", CgroupPermissions: "string" },
      },
    },
    DeviceCgroupRules: strings,
    DeviceRequests: {
      list: {
        struct: {
          Driver: "string",
          Count: "int",
          DeviceIDs: strings,
          Capabilities: { list: strings },
          Options: stringMap,
        },
      },
    },
    KernelMemory: "int",
    KernelMemoryTCP: "int",
    MemoryReservation: "int",
    MemorySwap: "int",
    MemorySwappiness: "int",
    OomKillDisable: "bool",
    PidsLimit: "int",
    Ulimits: { list: { struct: { Name: "string", Soft: "int", Hard: "int" } } },
    CpuCount: "int",
    CpuPercent: "int",
    // Only at their defaults, never passed on.
    ContainerIDFile: "zero",
    AutoRemove: "zero",
    VolumeDriver: "zero",
    ConsoleSize: "zero",
    Annotations: "zero",
    StorageOpt: "zero",
    Isolation: "zero",
    BlkioWeightDevice: "zero",
    BlkioDeviceReadBps: "zero",
    BlkioDeviceWriteBps: "zero",
    BlkioDeviceReadIOps: "zero",
    BlkioDeviceWriteIOps: "zero",
    CpuRealtimePeriod: "zero",
    CpuRealtimeRuntime: "zero",
    IOMaximumIOps: "zero",
    IOMaximumBandwidth: "zero",
  },
} as const;

const EndpointSettings = {
  struct: {
    IPAMConfig: {
      struct: { IPv4Address: "string", IPv6Address: "string", LinkLocalIPs: strings },
    },
    Links: strings,
    Aliases: strings,
    MacAddress: "string",
    DriverOpts: "zero",
    NetworkID: "zero",
    EndpointID: "zero",
    Gateway: "zero",
    IPAddress: "zero",
    IPPrefixLen: "zero",
    IPv6Gateway: "zero",
    GlobalIPv6Address: "zero",
    GlobalIPv6PrefixLen: "zero",
  },
} as const;

/** The schema of a ContainerCreate body as ledge accepts it. */
export const ContainerCreate = {
  struct: {
    Hostname: "string",
    Domainname: "string",
    User: "string",
    AttachStdin: "bool",
    AttachStdout: "bool",
    AttachStderr: "bool",
    ExposedPorts: emptyMap,
    Tty: "bool",
    OpenStdin: "bool",
    StdinOnce: "bool",
    Env: strings,
    Cmd: "strslice",
    Healthcheck,
    Image: "string",
    Volumes: emptyMap,
    WorkingDir: "string",
    Entrypoint: "strslice",
    NetworkDisabled: "bool",
    MacAddress: "string",
    Labels: stringMap,
    StopSignal: "string",
    StopTimeout: "int",
    Shell: strings,
    ArgsEscaped: "zero",
    OnBuild: "zero",
    HostConfig,
    NetworkingConfig: { struct: { EndpointsConfig: { map: EndpointSettings } } },
  },
} as const;

/** A canonical ContainerCreate body: only known fields, each under its canonical name. */
export type ContainerCreate = Decoded<typeof ContainerCreate>;
/** Its HostConfig. */
export type HostConfig = NonNullable<ContainerCreate["HostConfig"]>;
/** One entry of HostConfig.Mounts. */
export type Mount = NonNullable<HostConfig["Mounts"]>[number];
