/** The certificates of the security manager as `ledge cert list` shows them. */
import type { CaState } from "./certificate_authority.ts";
import type { CertificateInfo } from "./security_manager_api.ts";
import type { Certificate } from "./certificate.ts";

/** What {@linkcode describeCertificates} lists besides the CA. */
export interface ListedLeaves {
  server: Certificate;
  svids: readonly { name: string; cert: Certificate }[];
  now: Date;
  /** When a certificate ledge renews will renew. */
  renewalOf(cert: Certificate): Date;
}

/** Rows for the CA (current and overlapping), the hub's server certificate and module SVIDs. */
export function describeCertificates(ca: CaState, leaves: ListedLeaves): CertificateInfo[] {
  const rows: [CertificateInfo["kind"], string, Certificate, boolean][] = [];
  rows.push(["root-ca", "root CA", ca.roots[0]!, !ca.own]);
  for (const cert of ca.roots.slice(1)) {
    rows.push(["previous-root-ca", "previous root CA", cert, false]);
  }
  rows.push(["edge-ca", "edge CA", ca.issuer.cert, !ca.own]);
  if (ca.previousEdgeCa) {
    rows.push(["previous-edge-ca", "previous edge CA", ca.previousEdgeCa, false]);
  }
  rows.push(["server", "hub server", leaves.server, true]);
  for (const svid of leaves.svids) rows.push(["module", svid.name, svid.cert, true]);
  const now = leaves.now.getTime();
  return rows.map(([kind, name, cert, renews]) => {
    return {
      kind,
      name,
      subject: cert.subject,
      // "url:" for URIs, as the API has always written them.
      sans: cert.subjectAltNames.map((name) =>
        `${name.type === "uri" ? "url" : name.type}:${name.value}`
      ),
      serial: cert.serialNumber,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      daysLeft: Math.floor((cert.notAfter.getTime() - now) / 86400_000 * 10) / 10,
      renewAt: renews ? leaves.renewalOf(cert).toISOString() : undefined,
    };
  });
}
