/**
 * The hub's twin paths: GET and reported PATCH over MQTT, reported patches from the other heads,
 * desired changes (a deployment, the management API, the fleet) pushed to their subscribers.
 * Every answer to a write and every push waits until the write is durable
 * ({@linkcode TwinStore.durable}).
 */
import type { Logger } from "../core/log.ts";
import type { ClientSession } from "./client_session.ts";
import {
  desiredPatchTopic,
  identityKey,
  type IdentityRef,
  identityRef,
  parseTwinPatch,
  TwinPatchError,
  type TwinProperties,
  twinResponseTopic,
} from "../iothub/mod.ts";
import type { DesiredChange, TwinStore } from "./twin_store.ts";

const encoder = new TextEncoder();

/** A twin as GET returns it: each side with its `$version`. */
export interface TwinDocument {
  desired: TwinProperties;
  reported: TwinProperties;
}

/** What {@linkcode HubTwins} needs from the hub. */
export interface HubTwinsOptions {
  twins: TwinStore;
  logger: Logger;
  /** The MQTT session of a twin key, if connected. */
  session(key: string): ClientSession | undefined;
  /** Hands a desired patch to the other heads' subscribers of the twin. */
  pushToHeads(key: string, patch: TwinProperties, version: number): void;
  /** Told of each reported patch once it is durable. */
  onReported(identity: IdentityRef, patch: TwinProperties): void;
}

/** The twin paths of one hub. */
export class HubTwins {
  readonly #o: HubTwinsOptions;

  constructor(options: HubTwinsOptions) {
    this.#o = options;
  }

  document(key: string): TwinDocument {
    const twin = this.#o.twins.get(key);
    return {
      desired: { ...twin.desired, $version: twin.desiredVersion },
      reported: { ...twin.reported, $version: twin.reportedVersion },
    };
  }

  /** Answers a twin GET over MQTT. */
  answerGet(session: ClientSession, rid: string): void {
    answer(session, 200, rid, this.document(session.key));
  }

  /**
   * A reported patch over MQTT: once it is durable, told to the listeners and answered. Rejects
   * only when the answer itself cannot be sent.
   */
  async patchReportedOverMqtt(session: ClientSession, rid: string, payload: Uint8Array) {
    try {
      const version = await this.patchReported(session.identity, parseTwinPatch(payload));
      answer(session, 204, rid, undefined, version);
    } catch (error) {
      const status = error instanceof TwinPatchError ? error.status : 500;
      answer(session, status, rid, { message: (error as Error).message });
    }
  }

  /**
   * A reported patch (from any head): resolves with the new version once it is durable and the
   * listeners were told. Rejects with a {@linkcode TwinPatchError} for a bad patch.
   */
  async patchReported(identity: IdentityRef, patch: TwinProperties): Promise<number> {
    const version = this.#o.twins.patchReported(identityKey(identity), patch);
    await this.#o.twins.durable();
    this.#o.onReported(identityRef(identity), patch);
    return version;
  }

  /** Applies a desired patch; returns the new version. @throws {TwinPatchError} */
  patchDesired(target: IdentityRef, patch: TwinProperties): number {
    const key = identityKey(target);
    const change = this.#o.twins.patchDesired(key, patch);
    this.#push(key, change);
    return change.twin.desiredVersion;
  }

  /** Replaces the reported properties the hub writes itself (`$edgeAgent`'s); no listener hears. */
  replaceReported(target: IdentityRef, reported: TwinProperties): void {
    this.#o.twins.replaceReported(identityKey(target), reported);
  }

  /** Replaces the desired properties (a deployment's). @throws {TwinPatchError} */
  replaceDesired(target: IdentityRef, desired: TwinProperties): void {
    const key = identityKey(target);
    this.#push(key, this.#o.twins.replaceDesired(key, desired));
  }

  /** Pushes a desired change to the twin's subscribers once it is durable. */
  #push(key: string, { patch, twin }: DesiredChange): void {
    if (!patch) return;
    const { logger } = this.#o;
    this.#o.twins.durable().then(() => this.#send(key, patch, twin.desiredVersion), (error) => {
      logger.error("a desired change could not be made durable: not pushed", {
        twin: key,
        error: (error as Error).message,
      });
    }).catch((error) => logger.error("a desired change could not be pushed", { twin: key, error }));
  }

  #send(key: string, patch: TwinProperties, version: number): void {
    this.#o.pushToHeads(key, patch, version);
    const session = this.#o.session(key);
    if (!session) return;
    const subscribed = [...session.subscriptions].some((filter) =>
      filter.startsWith("$iothub/twin/PATCH/properties/desired")
    );
    if (subscribed) session.send(desiredPatchTopic(version), encoder.encode(JSON.stringify(patch)));
  }
}

/** A twin response over MQTT (`$iothub/twin/res/<status>/?$rid=...`). */
function answer(
  session: ClientSession,
  status: number,
  rid: string,
  body: unknown,
  version?: number,
): void {
  const payload = body === undefined ? new Uint8Array() : encoder.encode(JSON.stringify(body));
  session.send(
    twinResponseTopic(status, version === undefined ? { rid } : { rid, version }),
    payload,
  );
}
