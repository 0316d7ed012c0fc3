/**
 * Keeping secrets out of the support bundle: the config's SAS key is replaced, key file paths are
 * kept (never their contents), and every text that goes into the bundle is scrubbed of anything
 * shaped like a SAS key, a SAS signature or a PEM private key.
 */
import type { Config } from "../../core/config.ts";

/** What a removed secret reads as. */
export const REDACTED = "<redacted>";

/** A copy of `config` without its secrets: `upstream.shared_access_key` is replaced. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.upstream.shared_access_key !== "") copy.upstream.shared_access_key = REDACTED;
  return copy;
}

const PATTERNS: readonly [RegExp, string][] = [
  [
    /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    `-----BEGIN $1PRIVATE KEY-----${REDACTED}-----END $1PRIVATE KEY-----`,
  ],
  [/(SharedAccessKey=)[^;"'\s]+/gi, `$1${REDACTED}`],
  [
    /("?(?:primaryKey|secondaryKey|shared_access_key|sharedAccessKey)"?\s*[:=]\s*")[^"]+/gi,
    `$1${REDACTED}`,
  ],
  [/([?&]sig=)[^&"'\s]+/g, `$1${REDACTED}`],
];

/** `text` with SAS keys, SAS signatures and PEM private keys replaced by {@linkcode REDACTED}. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
