/**
 * What the SPIFFE Workload API serves for one workload (spiffe_server.ts listens, spiffe_service.ts
 * answers the calls).
 */

/** The X.509-SVID of the workload, in the wire's encodings. */
export interface X509SvidMaterial {
  spiffeId: string;
  /** DER certificates concatenated, leaf first. */
  certChainDer: Uint8Array;
  /** PKCS#8 DER private key. */
  keyDer: Uint8Array;
  /** DER trust anchors of the workload's trust domain, concatenated. */
  bundleDer: Uint8Array;
}

/** What the server serves, for one workload. */
export interface SpiffeSource {
  readonly trustDomain: string;
  /** The current SVID, or a reason there is none (e.g. an id SPIFFE cannot hold). */
  x509Svid(): X509SvidMaterial | { unavailable: string };
  /** DER trust anchors per trust domain. */
  x509Bundles(): Record<string, Uint8Array>;
  /** JWKS JSON bytes per trust domain. */
  jwtBundles(): Record<string, Uint8Array>;
  signJwt(
    audience: readonly string[],
    spiffeId: string,
  ): Promise<{ spiffeId: string; svid: string }>;
  validateJwt(
    token: string,
    audience: string,
  ): Promise<{ spiffeId: string; claims: Record<string, unknown> }>;
  /** Subscriptions return their unsubscribe function. */
  onSvidChange(listener: () => void): () => void;
  onX509BundleChange(listener: () => void): () => void;
  onJwtBundleChange(listener: () => void): () => void;
}

/** A running server. */
export interface SpiffeServer {
  close(): Promise<void>;
}
