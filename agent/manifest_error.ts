/**
 * A rejected deployment manifest: every problem with the JSON path where a reader finds it, and
 * the `lastDesiredStatus` code IoT Edge reports for it.
 */

/** A problem with one place of the manifest. */
export interface ManifestIssue {
  /** Where, e.g. `modulesContent.$edgeAgent["properties.desired"].modules.sensor.status`. */
  path: string;
  message: string;
}

/**
 * A rejected manifest. `code` is what `lastDesiredStatus.code` reports: 400 format error,
 * 412 unsupported schema version, 417 empty configuration.
 */
export class ManifestError extends Error {
  override name = "ManifestError";
  readonly code: 400 | 412 | 417;
  readonly issues: ManifestIssue[];
  constructor(code: 400 | 412 | 417, issues: ManifestIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(
      `Cannot accept the deployment: ${
        first ? `${first.path}: ${first.message}` : "invalid"
      }${more}`,
    );
    this.code = code;
    this.issues = issues;
  }
}

/** Formats a key path the way a reader finds it in the JSON: `a.b["c.d"].e`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(key))) {
      out += out === "" ? String(key) : `.${String(key)}`;
    } else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || "(top level)";
}

/** The path of a field of module `name` in a manifest, e.g. `...modules.sensor.settings.image`. */
export function modulePath(name: string, ...field: PropertyKey[]): string {
  return formatJsonPath([
    "modulesContent",
    "$edgeAgent",
    "properties.desired",
    "modules",
    name,
    ...field,
  ]);
}

/** A value as an error message shows it: JSON, cut at 80 characters. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
