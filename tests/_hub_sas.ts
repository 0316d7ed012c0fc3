/**
 * SAS tokens computed for tests, independently of ledge's own code (node:crypto HMAC-SHA256 over
 * `encodeURIComponentStrict(audience) + "\n" + expiry`).
 */
import { createHmac, randomBytes } from "node:crypto";

function strict(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A SAS token for `host/devices/{d}[/modules/{m}]` signed with the base64 `key`. */
export function sasToken(
  options: {
    host: string;
    deviceId: string;
    moduleId?: string;
    key: string;
    expirySeconds?: number;
  },
): string {
  const audience = `${options.host}/devices/${options.deviceId}` +
    (options.moduleId ? `/modules/${options.moduleId}` : "");
  const sr = strict(audience);
  const se = options.expirySeconds ?? Math.floor(Date.now() / 1000) + 3600;
  const sig = createHmac("sha256", Buffer.from(options.key, "base64")).update(`${sr}\n${se}`)
    .digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${strict(sig)}&se=${se}`;
}

/** A fresh random base64 key. */
export function randomKey(): string {
  return randomBytes(32).toString("base64");
}
