/** The certificates of the security manager as `ledge cert list` shows them. */
import type { CaState } from "./certificate_authority.ts";
import type { CertificateInfo } from "./security_manager_api.ts";
import { x509 } from "./_x509.ts";

/** What {@linkcode describeCertificates} lists besides the CA. */
export interface ListedLeaves {
  server: x509.X509Certificate;
  svids: readonly { name: string; cert: x509.X509Certificate }[];
  now: Date;
  /** When a certificate ledge renews will renew. */
  renewalOf(cert: x509.X509Certificate): Date;
}

/** Rows for the CA (current and overlapping), the hub's server certificate and module SVIDs. */
export function describeCertificates(ca: CaState, leaves: ListedLeaves): CertificateInfo[] {
  const rows: [CertificateInfo["kind"], string, x509.X509Certificate, boolean][] = [];
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
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    return {
      kind,
      name,
      subject: cert.subject,
      sans: san?.names.items.map((item) => `${item.type}:${item.value}`) ?? [],
      serial: cert.serialNumber,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      daysLeft: Math.floor((cert.notAfter.getTime() - now) / 86400_000 * 10) / 10,
      renewAt: renews ? leaves.renewalOf(cert).toISOString() : undefined,
    };
  });
}
