/**
 * The device's CA: a root and an issuing edge CA generated on first start under `<state>/pki/`,
 * or the operator's own edge CA (`security.edge_ca_cert`/`edge_ca_key`). Loading an existing PKI
 * generates no key. A file that exists but cannot be used is an error naming it; it is never
 * replaced by a new CA.
 */
import type { KeyObject } from "node:crypto";
import { writeFileAtomic } from "../core/atomic_file.ts";
import type { Logger } from "../core/log.ts";
import {
  type CertificateIssuer,
  createIssuingCa,
  createRootCa,
  NAME_CONSTRAINTS_OID,
} from "./certificate_builder.ts";
import { exportPrivateKeyPem, generateKeyPair, keyMatchesCertificate, pemEncode } from "./keys.ts";
import {
  fileExists,
  PkiFileError,
  preparePrivateDir,
  readCertificates,
  readPrivateKey,
} from "./pki_files.ts";
import type { Certificate } from "./certificate.ts";

/** File names under `<state>/pki/`. */
export const PKI_FILES = {
  rootCert: "root_ca.pem",
  rootKey: "root_ca.key.pem",
  edgeCert: "edge_ca.pem",
  edgeKey: "edge_ca.key.pem",
  previousEdgeCert: "previous_edge_ca.pem",
  previousRootCert: "previous_root_ca.pem",
} as const;

/** What the CA is made from. */
export interface CaSettings {
  pkiDir: string;
  deviceId: string;
  trustDomain: string;
  edgeCaLifetimeDays: number;
  rootCaLifetimeDays: number;
  /** Bring your own CA: PEM chain of the issuing CA, its key, and the trust anchors (optional). */
  ownEdgeCaCert?: string;
  ownEdgeCaKey?: string;
  ownTrustBundle?: string;
}

/** The CA as loaded. */
export interface CaState {
  /** Whether the operator brought the edge CA (ledge cannot renew it). */
  readonly own: boolean;
  /** Trust anchors: the current root first, then a previous root during its overlap. */
  roots: Certificate[];
  /** The current issuing CA. */
  issuer: CertificateIssuer;
  /** The edge CA replaced by the last renewal, kept in the trust bundle until it expires. */
  previousEdgeCa: Certificate | undefined;
  /** The root's key (generated CA only); needed to renew the edge CA. */
  rootKey: KeyObject | undefined;
}

function path(settings: CaSettings, name: keyof typeof PKI_FILES): string {
  return `${settings.pkiDir}/${PKI_FILES[name]}`;
}

async function loadPair(certPath: string, keyPath: string): Promise<CertificateIssuer> {
  const [certs, keys] = await Promise.all([readCertificates(certPath), readPrivateKey(keyPath)]);
  const cert = certs[0]!;
  if (!keyMatchesCertificate(keys.publicKey, cert)) {
    throw new PkiFileError(keyPath, `the key does not belong to the certificate in ${certPath}`);
  }
  if (!cert.basicConstraints?.ca) {
    throw new PkiFileError(certPath, "the certificate is not a CA (cA is not true)");
  }
  return { cert, privateKey: keys.privateKey, intermediates: certs.slice(1) };
}

async function loadOwnCa(settings: CaSettings): Promise<CaState> {
  const certPath = settings.ownEdgeCaCert!;
  const issuer = await loadPair(certPath, settings.ownEdgeCaKey!);
  const chain = [issuer.cert, ...issuer.intermediates];
  const roots = settings.ownTrustBundle
    ? await readCertificates(settings.ownTrustBundle)
    : [chain[chain.length - 1]!];
  // The chain file may end with the root; intermediates stop below it.
  const intermediates = issuer.intermediates.filter((cert) => !cert.checkSelfSigned());
  const top = [issuer.cert, ...intermediates].at(-1)!;
  let anchored = false;
  for (const root of roots) {
    if (root.serialNumber === top.serialNumber && root.subject === top.subject) anchored = true;
    else if (top.checkIssuedBy(root)) anchored = true;
  }
  if (!anchored) {
    throw new PkiFileError(
      settings.ownTrustBundle || certPath,
      `no trust anchor issued "${top.subject}"`,
    );
  }
  return {
    own: true,
    roots,
    issuer: { ...issuer, intermediates },
    previousEdgeCa: undefined,
    rootKey: undefined,
  };
}

/** Finishes (or forgets) an edge CA rotation a crash interrupted; see {@linkcode renewEdgeCa}. */
async function recoverRotation(settings: CaSettings): Promise<void> {
  const certNew = `${path(settings, "edgeCert")}.new`;
  const keyNew = `${path(settings, "edgeKey")}.new`;
  if (!await fileExists(certNew)) {
    await Deno.remove(keyNew).catch(() => {});
    return;
  }
  if (await fileExists(keyNew)) {
    // The key was not moved into place: the old pair is intact, the rotation never happened.
    await Deno.remove(keyNew);
    await Deno.remove(certNew);
    return;
  }
  // The key was moved, the certificate not yet: complete the rotation.
  await Deno.rename(certNew, path(settings, "edgeCert"));
}

async function createFreshCa(settings: CaSettings, now: Date): Promise<void> {
  const rootKeys = generateKeyPair();
  const rootCert = createRootCa({
    commonName: `ledge root CA ${settings.deviceId}`.slice(0, 64),
    lifetimeDays: settings.rootCaLifetimeDays,
    now,
    keys: rootKeys,
  });
  const edgeKeys = generateKeyPair();
  const edgeCert = createIssuingCa(
    { cert: rootCert, privateKey: rootKeys.privateKey, intermediates: [] },
    {
      commonName: `ledge edge CA ${settings.deviceId}`.slice(0, 64),
      lifetimeDays: settings.edgeCaLifetimeDays,
      now,
      publicKey: edgeKeys.publicKey,
      trustDomain: settings.trustDomain,
    },
  );
  const files: [keyof typeof PKI_FILES, string, number][] = [
    ["rootKey", exportPrivateKeyPem(rootKeys.privateKey), 0o600],
    ["rootCert", certificatesPem([rootCert]), 0o600],
    ["edgeKey", exportPrivateKeyPem(edgeKeys.privateKey), 0o600],
    ["edgeCert", certificatesPem([edgeCert]), 0o600],
  ];
  // Staged in a sibling directory renamed over the (empty) pki dir: a crash leaves either no
  // CA or a whole one, never a key without its certificate.
  const staging = `${settings.pkiDir}.staging-${Deno.pid}`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await preparePrivateDir(staging);
  for (const [name, text, mode] of files) {
    await writeFileAtomic(`${staging}/${PKI_FILES[name]}`, text, { mode });
  }
  try {
    await Deno.rename(staging, settings.pkiDir);
  } catch {
    // The pki dir holds other files (e.g. device certificates): move the CA files one by one.
    for (const [name] of files) {
      await Deno.rename(`${staging}/${PKI_FILES[name]}`, path(settings, name));
    }
    await Deno.remove(staging, { recursive: true });
  }
}

/**
 * Loads the CA, creating it on first start. Creates nothing when any CA file exists.
 *
 * @throws {PkiFileError} naming a missing partner file, a corrupt file or a key that does not
 * match its certificate.
 */
export async function loadOrCreateCa(
  settings: CaSettings,
  options: { now: Date; logger: Logger },
): Promise<CaState> {
  await preparePrivateDir(settings.pkiDir);
  if (settings.ownEdgeCaCert) return await loadOwnCa(settings);
  await recoverRotation(settings);
  const names = ["rootCert", "rootKey", "edgeCert", "edgeKey"] as const;
  const present = await Promise.all(names.map((name) => fileExists(path(settings, name))));
  if (present.every((exists) => !exists)) {
    options.logger.info("creating the device CA", { pkiDir: settings.pkiDir });
    await createFreshCa(settings, options.now);
  } else if (!present.every(Boolean)) {
    const missing = names.filter((_, i) => !present[i]).map((name) => path(settings, name));
    throw new PkiFileError(
      missing[0]!,
      `missing while other CA files exist in ${settings.pkiDir}; restore it (a new CA is not created over an existing one)`,
    );
  }
  const root = await loadPair(path(settings, "rootCert"), path(settings, "rootKey"));
  const edge = await loadPair(path(settings, "edgeCert"), path(settings, "edgeKey"));
  const roots = [root.cert];
  const previousRootPath = path(settings, "previousRootCert");
  if (await fileExists(previousRootPath)) roots.push(...await readCertificates(previousRootPath));
  if (!roots.some((root) => edge.cert.checkIssuedBy(root))) {
    throw new PkiFileError(path(settings, "edgeCert"), "not issued by the root CA in root_ca.pem");
  }
  const previousPath = path(settings, "previousEdgeCert");
  const previousEdgeCa = await fileExists(previousPath)
    ? (await readCertificates(previousPath))[0]
    : undefined;
  const state: CaState = {
    own: false,
    roots,
    issuer: { cert: edge.cert, privateKey: edge.privateKey, intermediates: [] },
    previousEdgeCa,
    rootKey: root.privateKey,
  };
  await pruneExpired(settings, state, options.now);
  return state;
}

/** Drops a previous edge CA or root whose overlap is over (it has expired). */
export async function pruneExpired(settings: CaSettings, state: CaState, now: Date) {
  if (state.own) return;
  if (state.previousEdgeCa && state.previousEdgeCa.notAfter.getTime() <= now.getTime()) {
    state.previousEdgeCa = undefined;
    await Deno.remove(path(settings, "previousEdgeCert")).catch(() => {});
  }
  if (state.roots.length > 1 && state.roots[1]!.notAfter.getTime() <= now.getTime()) {
    state.roots = [state.roots[0]!];
    await Deno.remove(path(settings, "previousRootCert")).catch(() => {});
  }
}

/** Whether the edge CA carries the name constraint of the trust domain (generated CAs do). */
export function isNameConstrained(cert: Certificate): boolean {
  return cert.extension(NAME_CONSTRAINTS_OID) !== undefined;
}

/**
 * Replaces the edge CA with a new key and certificate under the root (and the root itself when
 * `rotateRoot`, e.g. when it expires). The old ones stay in the trust bundle until they expire.
 *
 * @throws {Error} for an operator-provided CA, which ledge cannot renew.
 */
export async function renewEdgeCa(
  settings: CaSettings,
  state: CaState,
  options: { now: Date; rotateRoot?: boolean },
): Promise<void> {
  if (state.own || !state.rootKey) {
    throw new Error(
      "Cannot renew the edge CA: it is the operator's (security.edge_ca_cert); replace its files and restart",
    );
  }
  let rootCert = state.roots[0]!;
  let rootKey = state.rootKey;
  if (options.rotateRoot) {
    const keys = generateKeyPair();
    rootCert = createRootCa({
      commonName: rootCert.commonName ?? `ledge root CA ${settings.deviceId}`,
      lifetimeDays: settings.rootCaLifetimeDays,
      now: options.now,
      keys,
    });
    rootKey = keys.privateKey;
    await writeFileAtomic(
      path(settings, "previousRootCert"),
      certificatesPem([state.roots[0]!]),
      { mode: 0o600 },
    );
    await writeFileAtomic(path(settings, "rootKey"), exportPrivateKeyPem(rootKey));
    await writeFileAtomic(path(settings, "rootCert"), certificatesPem([rootCert]), { mode: 0o600 });
  }
  const edgeKeys = generateKeyPair();
  const edgeCert = createIssuingCa(
    { cert: rootCert, privateKey: rootKey, intermediates: [] },
    {
      commonName: state.issuer.cert.commonName ??
        `ledge edge CA ${settings.deviceId}`,
      lifetimeDays: settings.edgeCaLifetimeDays,
      now: options.now,
      publicKey: edgeKeys.publicKey,
      trustDomain: settings.trustDomain,
    },
  );
  const certPath = path(settings, "edgeCert");
  const keyPath = path(settings, "edgeKey");
  // Order matters for recoverRotation(): both new files, then the key, then the certificate.
  await writeFileAtomic(`${certPath}.new`, certificatesPem([edgeCert]), { mode: 0o600 });
  await writeFileAtomic(`${keyPath}.new`, exportPrivateKeyPem(edgeKeys.privateKey));
  await writeFileAtomic(
    path(settings, "previousEdgeCert"),
    certificatesPem([state.issuer.cert]),
    { mode: 0o600 },
  );
  await Deno.rename(`${keyPath}.new`, keyPath);
  await Deno.rename(`${certPath}.new`, certPath);
  const loaded = await readPrivateKey(keyPath);
  state.previousEdgeCa = state.issuer.cert;
  state.issuer = { cert: edgeCert, privateKey: loaded.privateKey, intermediates: [] };
  if (options.rotateRoot) {
    const rootLoaded = await readPrivateKey(path(settings, "rootKey"));
    state.roots = [rootCert, state.roots[0]!];
    state.rootKey = rootLoaded.privateKey;
  }
}

/**
 * The PEM trust bundle: the roots, then the current edge CA and, during an overlap, the previous
 * one (so clients holding only a leaf can still build the chain).
 */
export function trustBundleCertificates(state: CaState): Certificate[] {
  const certs = [...state.roots, state.issuer.cert, ...state.issuer.intermediates];
  if (state.previousEdgeCa) certs.push(state.previousEdgeCa);
  const seen = new Set<string>();
  return certs.filter((cert) => {
    const key = `${cert.issuer}|${cert.serialNumber}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** PEM text of certificates, one after the other. */
export function certificatesPem(certs: readonly Certificate[]): string {
  return certs.map((cert) => pemEncode(cert.der, "CERTIFICATE")).join("");
}
