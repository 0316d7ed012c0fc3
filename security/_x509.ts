/**
 * @peculiar/x509 on the platform's WebCrypto. v2 decorates its ASN.1 classes, so
 * `reflect-metadata` must be evaluated before it: every file of security/ imports x509 from here.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };

/** ECDSA P-256 with SHA-256: the only algorithm ledge issues with. */
export const SIGNING_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
/** The key algorithm of every key ledge generates. */
export const KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
