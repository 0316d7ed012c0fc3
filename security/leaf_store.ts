/**
 * Issued leaves with their fresh keys, and the files of those that persist: the hub's server
 * certificate (`<state>/pki/server.pem`, `server.key.pem`) and leaf device certificates
 * (`<state>/pki/devices/<id>.pem`). Module SVIDs live in memory only and are re-issued at start.
 */
import { writeFileAtomic } from "../core/atomic_file.ts";
import type { Logger } from "../core/log.ts";
import { type CertificateIssuer, issueLeaf, type LeafTemplate } from "./certificate_builder.ts";
import { certificatesPem } from "./certificate_authority.ts";
import { exportPkcs8, generateKeyPair, keyMatchesCertificate, pemEncode } from "./keys.ts";
import { fileExists, preparePrivateDir, readCertificates, readPrivateKey } from "./pki_files.ts";
import type { Certificate } from "./certificate.ts";

/** A leaf certificate with its key and chain. */
export interface IssuedLeaf {
  cert: Certificate;
  spiffeId: string | undefined;
  /** PKCS#8 PEM. */
  keyPem: string;
  /** PKCS#8 DER. */
  keyDer: Uint8Array;
  /** DER, leaf first, then the issuing CA and its intermediates. */
  chainDer: Uint8Array[];
  /** PEM of {@linkcode chainDer}. */
  chainPem: string;
  /** Writes `<dir>/<name>.pem` (chain, 0600) and `<dir>/<name>.key.pem` (0600). */
  saveTo(dir: string, name: string): Promise<{ certificateFile: string; keyFile: string }>;
}

function assemble(
  issuer: CertificateIssuer,
  cert: Certificate,
  keyDer: Uint8Array,
): IssuedLeaf {
  const chain = [cert, issuer.cert, ...issuer.intermediates];
  const keyPem = pemEncode(keyDer, "PRIVATE KEY");
  const chainPem = certificatesPem(chain);
  const uri = cert.subjectAltNames.find((name) => name.type === "uri")?.value;
  return {
    cert,
    spiffeId: uri,
    keyPem,
    keyDer,
    chainDer: chain.map((c) => c.der),
    chainPem,
    async saveTo(dir, name) {
      await preparePrivateDir(dir);
      const certificateFile = `${dir}/${name}.pem`;
      const keyFile = `${dir}/${name}.key.pem`;
      await writeFileAtomic(keyFile, keyPem, { mode: 0o600 });
      await writeFileAtomic(certificateFile, chainPem, { mode: 0o600 });
      return { certificateFile, keyFile };
    },
  };
}

/** Generates a key and issues a leaf for it from the template. */
export function issueModuleLeaf(
  issuer: CertificateIssuer,
  template: Omit<LeafTemplate, "publicKey">,
): IssuedLeaf {
  const keys = generateKeyPair();
  const cert = issueLeaf(issuer, { ...template, publicKey: keys.publicKey });
  return assemble(issuer, cert, exportPkcs8(keys.privateKey));
}

const SERVER = "server";

/** Persists the hub's server certificate and key. */
export async function saveServerCertificate(pkiDir: string, leaf: IssuedLeaf): Promise<void> {
  await leaf.saveTo(pkiDir, SERVER);
}

/**
 * Loads the persisted server certificate when it is usable with `issuer`; otherwise undefined
 * (it is re-issued). Unreadable files are moved aside, not deleted, and the move is logged.
 */
export async function loadServerCertificate(
  pkiDir: string,
  issuer: CertificateIssuer,
  logger: Logger,
): Promise<IssuedLeaf | undefined> {
  const certPath = `${pkiDir}/${SERVER}.pem`;
  const keyPath = `${pkiDir}/${SERVER}.key.pem`;
  if (!await fileExists(certPath) || !await fileExists(keyPath)) return undefined;
  try {
    const [certs, keys] = await Promise.all([
      readCertificates(certPath),
      readPrivateKey(keyPath),
    ]);
    const cert = certs[0]!;
    if (!keyMatchesCertificate(keys.publicKey, cert)) {
      throw new Error(`${keyPath} does not belong to ${certPath}`);
    }
    if (!cert.checkIssuedBy(issuer.cert)) return undefined;
    return assemble(issuer, cert, exportPkcs8(keys.privateKey));
  } catch (error) {
    const suffix = `.unusable-${Date.now()}`;
    await Deno.rename(certPath, certPath + suffix).catch(() => {});
    await Deno.rename(keyPath, keyPath + suffix).catch(() => {});
    logger.warn("the server certificate files are unusable; moved aside, issuing a new one", {
      file: certPath,
      movedTo: certPath + suffix,
      error,
    });
    return undefined;
  }
}
