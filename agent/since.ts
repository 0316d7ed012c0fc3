/**
 * `--since` for logs, as `iotedge logs` takes it: Unix seconds, an RFC 3339 time, or a duration
 * back from now (`90s`, `10m`, `1h30m`, `2d`).
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses `value` into Unix seconds.
 *
 * @throws {RangeError} naming the value when it is none of the accepted forms.
 */
export function parseSince(value: string, nowMs: number = Date.now()): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.floor(Number(text));
  if (/^(\d+[smhd])+$/.test(text)) {
    let seconds = 0;
    for (const [, amount, unit] of text.matchAll(/(\d+)([smhd])/g)) {
      seconds += Number(amount) * UNIT_SECONDS[unit!]!;
    }
    return Math.floor(nowMs / 1000) - seconds;
  }
  const ms = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(ms)) return Math.floor(ms / 1000);
  throw new RangeError(
    `Cannot read since ${
      JSON.stringify(value)
    }: expected Unix seconds, an RFC 3339 time or a duration like 10m`,
  );
}
