/**
 * Certificate expiry on one timeline: a row per certificate, a bar from now to its expiry and a
 * tick where it renews, on a logarithmic time axis (a leaf lives a day, the root CA ten years:
 * both must be readable at once).
 */
import { type Html, html, type Tone } from "./html.ts";

/** A certificate as the timeline needs it. */
export interface TimelineCertificate {
  name: string;
  kind: string;
  notAfter: string;
  renewAt: string | undefined;
}

const DAY_MS = 86_400_000;
const ROW = 26;
const LABEL = 190;
const WIDTH = 900;
const RIGHT = 70;
const TICKS: [number, string][] = [
  [0, "now"],
  [1, "1 day"],
  [7, "1 week"],
  [30, "1 month"],
  [365, "1 year"],
  [3650, "10 years"],
  [36500, "100 years"],
];

/** The colour of a certificate: expired, due for renewal, or fine. */
export function certificateTone(cert: TimelineCertificate, now: number): Tone {
  if (Date.parse(cert.notAfter) <= now) return "error";
  if (cert.renewAt !== undefined && Date.parse(cert.renewAt) <= now) return "warn";
  return "ok";
}

/** "18 h", "12 d", "3.2 y": time left, short. */
export function shortLeft(days: number): string {
  if (days <= 0) return "expired";
  if (days < 2) return `${Math.round(days * 24)} h`;
  if (days < 730) return `${Math.round(days)} d`;
  return `${(days / 365).toFixed(1)} y`;
}

/** Maps days from now to x on an axis reaching `maxDays`. */
export function timeScale(maxDays: number): (days: number) => number {
  const span = Math.log10(1 + maxDays);
  const plot = WIDTH - LABEL - RIGHT;
  return (days) => LABEL + plot * Math.min(1, Math.log10(1 + Math.max(0, days)) / span);
}

/** The timeline as inline SVG. */
export function certificateTimeline(
  certificates: readonly TimelineCertificate[],
  now: number,
): Html {
  const left = (iso: string) => (Date.parse(iso) - now) / DAY_MS;
  const longest = Math.max(1, ...certificates.map((c) => left(c.notAfter)));
  const reach = TICKS.find(([days]) => days >= longest)?.[0] ?? longest;
  const x = timeScale(reach);
  const height = 24 + certificates.length * ROW;
  const ticks = TICKS.filter(([days]) => days <= reach).map(([days, label]) =>
    html`
      <line class="tick" x1="${x(days).toFixed(1)}" x2="${x(days).toFixed(
        1,
      )}" y1="16" y2="${height}" />
      <text class="axis" x="${x(days).toFixed(1)}" y="11" text-anchor="middle">${label}</text>
    `
  );
  const rows = certificates.map((cert, i) => {
    const y = 24 + i * ROW + ROW / 2;
    const days = left(cert.notAfter);
    const tone = certificateTone(cert, now);
    const end = x(days);
    const renew = cert.renewAt === undefined ? undefined : left(cert.renewAt);
    return html`
      <g class="cert ${tone}"
        data-cert="${cert.kind}:${cert.name}"><title>${cert.name}: ${shortLeft(
          days,
        )} left</title><text class="name" x="${LABEL - 10}" y="${(y + 4).toFixed(
          1,
        )}" text-anchor="end">${cert.name}</text><rect class="bar" x="${LABEL}" y="${(y - 5)
          .toFixed(1)}" width="${Math.max(3, end - LABEL).toFixed(
            1,
          )}" height="10" rx="5"/>${renew !== undefined && renew > 0
          ? html`
            <line class="renew" x1="${x(renew).toFixed(1)}" x2="${x(renew).toFixed(
              1,
            )}" y1="${(y - 8).toFixed(1)}" y2="${(y + 8).toFixed(1)}" />
          `
          : ""}<text class="left" x="${(Math.max(end, LABEL) + 8).toFixed(1)}" y="${(y + 4).toFixed(
            1,
          )}">${shortLeft(days)}</text></g>
    `;
  });
  return html`
    <svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img"
      aria-label="certificate expiry timeline">${ticks}${rows}</svg>
  `;
}
