/**
 * Renewal of everything that expires: the edge CA (and the root with it when due), the hub's
 * server certificate and each module's X.509-SVID, each at about 2/3 of its life with jitter.
 * One timer, armed for the earliest renewal; consumers hear of each change through the state's
 * listeners.
 */
import type { Certificate } from "./certificate.ts";
import type { SecurityState } from "./_security_state.ts";
import { pruneExpired, renewEdgeCa } from "./certificate_authority.ts";
import { BACKDATE_SECONDS } from "./certificate_builder.ts";
import { dropPreviousJwtSigner, rotateJwtSigner } from "./jwt_svid.ts";
import { issueModuleLeaf, saveServerCertificate } from "./leaf_store.ts";
import { issueSvid } from "./module_apis.ts";
import { renewalTime, timerDelay } from "./renewal.ts";

/** After a failed renewal, the next try. */
const RETRY_MS = 60_000;

/** What {@linkcode RenewalScheduler.renewDue} renews even when not due. */
export interface ForcedRenewal {
  /** Every leaf (server certificate and SVIDs). */
  leaves?: boolean;
  /** The edge CA first (and so every leaf). */
  ca?: boolean;
}

/** The renewal timer and what it renews. */
export class RenewalScheduler {
  readonly #state: SecurityState;
  readonly #renewAt = new Map<string, Date>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(state: SecurityState) {
    this.#state = state;
  }

  /** When `cert` is renewed: fixed once per certificate, at ~2/3 of its life with jitter. */
  renewalOf(cert: Certificate): Date {
    const id = `${cert.issuer}|${cert.serialNumber}`;
    let at = this.#renewAt.get(id);
    if (!at) {
      at = renewalTime(cert, this.#state.random, BACKDATE_SECONDS * 1000);
      this.#renewAt.set(id, at);
    }
    return at;
  }

  /** Renews whatever is due (or everything `force` names), then re-arms the timer. */
  async renewDue(force: ForcedRenewal = {}): Promise<void> {
    const state = this.#state;
    state.requireStarted("renew");
    const caRenewed = await this.#renewCaIfDue(force.ca === true);
    const all = caRenewed || force.leaves === true;
    const due = (cert: Certificate) => this.#due(cert);
    if (!state.server || all || due(state.server.cert)) {
      await this.issueServer();
      state.logger.info("renewed the server certificate", {
        notAfter: state.server!.cert.notAfter.toISOString(),
      });
      state.serverListeners.emit();
    }
    if (caRenewed) {
      state.bundleListeners.emit();
      state.jwtListeners.emit();
    }
    for (const runtime of state.modules.values()) {
      const svid = runtime.svid;
      if (svid && "unavailable" in svid) continue;
      if (!svid || all || due(svid.cert)) {
        issueSvid(runtime, state.apiContext);
        runtime.svidListeners.emit();
        // Key generation and signing are synchronous (node:crypto, ~1 ms a module): a turn of the
        // event loop between modules keeps renewing 100 of them from blocking the hub ~100 ms.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    this.arm();
  }

  /** Arms the timer for the earliest renewal (or the previous edge CA's expiry). */
  arm(): void {
    const state = this.#state;
    clearTimeout(this.#timer);
    const ca = state.ca;
    if (!state.started || !ca) return;
    const candidates: Date[] = [];
    if (!ca.own) candidates.push(this.renewalOf(ca.issuer.cert), this.renewalOf(ca.roots[0]!));
    if (ca.previousEdgeCa) candidates.push(ca.previousEdgeCa.notAfter);
    if (state.server) candidates.push(this.renewalOf(state.server.cert));
    for (const runtime of state.modules.values()) {
      if (runtime.svid && !("unavailable" in runtime.svid)) {
        candidates.push(this.renewalOf(runtime.svid.cert));
      }
    }
    if (candidates.length === 0) return;
    const next = new Date(Math.min(...candidates.map((d) => d.getTime())));
    this.#timer = setTimeout(() => this.#fire(), timerDelay(next, state.now()));
  }

  /** Stops the timer. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  /** Issues the hub's server certificate for the device's names and loopback. */
  async issueServer(): Promise<void> {
    const state = this.#state;
    const { config } = state;
    const { dnsNames, ipAddresses } = state.hubNames();
    state.server = issueModuleLeaf(
      state.requireStarted("issue the server certificate").issuer,
      {
        profile: "server",
        commonName: config.device.hostname.slice(0, 64),
        dnsNames,
        ipAddresses,
        // No SPIFFE URI SAN here: rustls (Deno's TLS, so a child ledge's upstream link) rejects a
        // URI SAN under an issuer with URI name constraints, and a TLS server needs only its names.
        trustDomain: config.security.trust_domain,
        lifetimeSeconds: config.security.leaf_lifetime_seconds,
        now: state.now(),
      },
    );
    await saveServerCertificate(state.pkiDir, state.server);
  }

  #due(cert: Certificate): boolean {
    return this.renewalOf(cert).getTime() <= this.#state.now().getTime();
  }

  #fire(): void {
    const state = this.#state;
    state.exclusive(() => this.renewDue()).catch((error) => {
      state.logger.error("certificate renewal failed; retrying in 60 s", { error });
      clearTimeout(this.#timer);
      this.#timer = setTimeout(
        () => state.exclusive(() => this.renewDue()).catch(() => this.arm()),
        RETRY_MS,
      );
    });
  }

  /** Renews the edge CA when due or forced; prunes what expired. Resolves whether it renewed. */
  async #renewCaIfDue(force: boolean): Promise<boolean> {
    const state = this.#state;
    const ca = state.requireStarted("renew");
    const at = state.now();
    let renewed = false;
    if (force || (!ca.own && (this.#due(ca.issuer.cert) || this.#due(ca.roots[0]!)))) {
      const rotateRoot = this.#due(ca.roots[0]!) ||
        ca.roots[0]!.notAfter.getTime() <= at.getTime();
      await renewEdgeCa(state.settings, ca, { now: at, rotateRoot });
      await rotateJwtSigner(state.pkiDir, state.jwt!);
      state.logger.info("renewed the edge CA", {
        notAfter: ca.issuer.cert.notAfter.toISOString(),
        rootRotated: rotateRoot,
      });
      renewed = true;
    } else if (ca.own && this.#due(ca.issuer.cert)) {
      state.logger.warn("the operator's edge CA is past its renewal point: replace its files", {
        file: state.settings.ownEdgeCaCert,
        notAfter: ca.issuer.cert.notAfter.toISOString(),
      });
    }
    const hadPrevious = ca.previousEdgeCa !== undefined;
    await pruneExpired(state.settings, ca, at);
    if (hadPrevious && !ca.previousEdgeCa) {
      await dropPreviousJwtSigner(state.pkiDir, state.jwt!);
      state.bundleListeners.emit();
      state.jwtListeners.emit();
    }
    return renewed;
  }
}
