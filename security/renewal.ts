/**
 * When certificates renew: at about 2/3 of their lifetime with jitter, so a fleet started at the
 * same moment does not renew at the same moment; at once when already past that point.
 */

/** The share of a lifetime after which renewal starts, and the jitter added on top. */
export const RENEWAL_FRACTION = 0.6;
/** Up to this share of the lifetime is added at random to {@linkcode RENEWAL_FRACTION}. */
export const RENEWAL_JITTER = 0.1;

/**
 * The time a certificate valid from `notBefore` to `notAfter` should renew: between 60 % and
 * 70 % of its lifetime. `random` returns [0, 1); `backdateMs` is how far notBefore was set
 * before the issue time.
 */
export function renewalTime(
  validity: { notBefore: Date; notAfter: Date },
  random: () => number = Math.random,
  backdateMs = 0,
): Date {
  // Certificates are back-dated for clock skew; the lifetime counts from when they were issued.
  const start = Math.min(validity.notBefore.getTime() + backdateMs, validity.notAfter.getTime());
  const lifetime = Math.max(0, validity.notAfter.getTime() - start);
  const fraction = RENEWAL_FRACTION + RENEWAL_JITTER * Math.min(Math.max(random(), 0), 1);
  return new Date(start + Math.floor(lifetime * fraction));
}

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are re-armed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The delay to arm a timer with for `at`, from `now`: 0 when due, capped at the timer limit. */
export function timerDelay(at: Date, now: Date): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - now.getTime()));
}
