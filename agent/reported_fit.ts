/**
 * Fitting the `$edgeAgent` reported properties into a twin's reported side (32 KiB, as at IoT
 * Hub). A report over the limit would be refused whole, and the parent would show no report at
 * all; so it is cut instead, in this order, each step only when the one before is not enough:
 *
 * 1. the echoes of the deployment in each module: `env`, `version`, `status`, `restartPolicy`,
 *    `imagePullPolicy`, `startupOrder`, and `settings` but for what names the module (`image`,
 *    `imageHash`, `command`, `args`); the parent holds them in its desired side;
 * 2. the status descriptions (modules' `statusDescription`, `lastDesiredStatus.description`),
 *    each cut to the longest length that fits around {@linkcode CUT_MARKER} (see
 *    {@linkcode cutText}).
 *
 * Every module stays, with its runtimeStatus, exitCode, restartCount and times; `reportCut` says
 * what was cut.
 */
import type { Logger } from "../core/log.ts";
import { MAX_TWIN_SIDE_BYTES } from "../iothub/mod.ts";
import type { EdgeAgentReported, ReportCut, ReportedModule } from "./reported.ts";

/** Stands where a description was cut to fit. */
export const CUT_MARKER = "\u2026[cut]\u2026";

/** What a module keeps of its `settings` once the echoes of the deployment are dropped. */
const KEPT_SETTINGS = new Set(["image", "imageHash", "command", "args"]);

const encoder = new TextEncoder();

function byteSize(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).byteLength;
}

function mapModules(
  modules: Record<string, ReportedModule>,
  change: (module: ReportedModule) => ReportedModule,
): Record<string, ReportedModule> {
  return Object.fromEntries(
    Object.entries(modules).map(([name, module]) => [name, change(module)]),
  );
}

function withoutEchoes(module: ReportedModule): ReportedModule {
  const {
    env: _env,
    version: _version,
    status: _status,
    restartPolicy: _restartPolicy,
    imagePullPolicy: _imagePullPolicy,
    startupOrder: _startupOrder,
    settings,
    ...rest
  } = module;
  const kept = Object.entries(settings).filter(([key]) => KEPT_SETTINGS.has(key));
  return { ...rest, settings: Object.fromEntries(kept) };
}

/** Below this length a cut description keeps only its beginning. */
const SHORTEST_WITH_END = 24;

function isHighSurrogate(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * `text` cut to `length` UTF-16 units (never inside a surrogate pair) around
 * {@linkcode CUT_MARKER}: its first two thirds and its last third, since a reason starts with
 * what failed and ends with what would allow it (`... (agent.allow.privileged)`); a short cut
 * keeps the beginning only.
 */
export function cutText(text: string, length: number): string {
  if (text.length <= length) return text;
  const tailLength = length < SHORTEST_WITH_END ? 0 : Math.floor(length / 3);
  let headEnd = length - tailLength;
  if (headEnd > 0 && isHighSurrogate(text, headEnd - 1)) headEnd--;
  let tailStart = text.length - tailLength;
  if (tailLength > 0 && isHighSurrogate(text, tailStart - 1)) tailStart++;
  const tail = tailLength > 0 ? text.slice(tailStart) : "";
  return text.slice(0, headEnd) + CUT_MARKER + tail;
}

function descriptionsCut<T extends EdgeAgentReported>(doc: T, length: number): T {
  return {
    ...doc,
    lastDesiredStatus: {
      ...doc.lastDesiredStatus,
      description: cutText(doc.lastDesiredStatus.description, length),
    },
    modules: mapModules(
      doc.modules,
      (module) => ({ ...module, statusDescription: cutText(module.statusDescription, length) }),
    ),
  };
}

function longestDescription(doc: EdgeAgentReported): number {
  const lengths = Object.values(doc.modules).map((module) => module.statusDescription.length);
  return Math.max(doc.lastDesiredStatus.description.length, ...lengths);
}

/** The report with the descriptions cut to the longest length that fits (or to none). */
function fitDescriptions<T extends EdgeAgentReported>(
  doc: T,
  cut: ReportCut,
): { reported: T; cut: ReportCut } {
  const candidate = (length: number) => {
    const withCut = { ...cut, descriptionsCutTo: length };
    return { reported: { ...descriptionsCut(doc, length), reportCut: withCut }, cut: withCut };
  };
  let [low, high] = [0, longestDescription(doc)];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (byteSize(candidate(middle).reported) <= cut.limitBytes) low = middle;
    else high = middle - 1;
  }
  const best = candidate(low);
  best.cut.fits = byteSize(best.reported) <= cut.limitBytes;
  return best;
}

/**
 * `reported` as it fits in `limitBytes` of serialized JSON, and what was cut (undefined when
 * nothing was). When even the shortest form is over the limit, `cut.fits` is false.
 */
export function fitReported<T extends EdgeAgentReported>(
  reported: T,
  limitBytes: number = MAX_TWIN_SIDE_BYTES,
): { reported: T; cut: ReportCut | undefined } {
  const fullBytes = byteSize(reported);
  if (fullBytes <= limitBytes) return { reported, cut: undefined };
  const cut: ReportCut = { limitBytes, fullBytes, settingsOmitted: true, fits: true };
  const lean = {
    ...reported,
    modules: mapModules(reported.modules, withoutEchoes),
    reportCut: cut,
  };
  if (byteSize(lean) <= limitBytes) return { reported: lean, cut };
  return fitDescriptions(lean, cut);
}

/** {@linkcode fitReported} with a log line when cutting starts, and when it stops. */
export class ReportedFit {
  readonly #logger: Logger;
  readonly #limitBytes: number;
  #cutting = false;

  constructor(logger: Logger, limitBytes: number = MAX_TWIN_SIDE_BYTES) {
    this.#logger = logger;
    this.#limitBytes = limitBytes;
  }

  /** `reported`, cut to fit when it is over the limit. */
  apply<T extends EdgeAgentReported>(reported: T): T {
    const { reported: fitted, cut } = fitReported(reported, this.#limitBytes);
    if (cut && !this.#cutting) {
      const modules = Object.keys(reported.modules).length;
      const message = cut.fits
        ? "the $edgeAgent reported properties are over the twin limit: cut to fit"
        : "the $edgeAgent reported properties are over the twin limit even when cut";
      (cut.fits ? this.#logger.warn : this.#logger.error).call(this.#logger, message, {
        ...cut,
        modules,
      });
    } else if (!cut && this.#cutting) {
      this.#logger.info("the $edgeAgent reported properties fit the twin limit again, uncut");
    }
    this.#cutting = cut !== undefined;
    return fitted;
  }
}
