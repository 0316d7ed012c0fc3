/** `ledge cert list|renew`: the certificates of the running daemon's security manager. */
import { Command } from "commander";
import { out, printJson, printTable, withDaemon } from "./_shared.ts";

interface CertificateRow {
  kind: string;
  name: string;
  subject: string;
  sans: string[];
  notAfter: string;
  daysLeft: number;
  renewAt: string | null;
}

interface CertificateList {
  certificates: CertificateRow[];
  clockWarning?: string | null;
}

function print(list: CertificateList): void {
  printTable(
    list.certificates.map((cert) => ({
      name: cert.name,
      kind: cert.kind,
      subject: cert.subject,
      sans: cert.sans.join(",") || "-",
      "not after": cert.notAfter,
      "days left": cert.daysLeft.toFixed(1),
    })),
    ["name", "kind", "subject", "sans", "not after", "days left"],
  );
  if (list.clockWarning) out(`warning: ${list.clockWarning}`);
}

/** Builds the `cert` verb. */
export function certCommand(): Command {
  return new Command("cert")
    .description("list and renew certificates")
    .addCommand(
      new Command("list")
        .description("certificates: subject, SANs, notAfter, days left")
        .option("--json", "print JSON")
        .action(async (options: { json?: boolean }, command) => {
          const list = await withDaemon(
            command,
            (client) => client.request<CertificateList>("GET", "/v1/certificates"),
          );
          if (options.json) return printJson(list);
          print(list);
        }),
    )
    .addCommand(
      new Command("renew")
        .description("renew every leaf certificate now (--ca: the edge CA first)")
        .option("--ca", "renew the edge CA too (old and new stay trusted until the old expires)")
        .option("--json", "print JSON")
        .action(async (options: { ca?: boolean; json?: boolean }, command) => {
          const list = await withDaemon(
            command,
            (client) =>
              client.request<CertificateList>("POST", "/v1/certificates/renew", {
                ca: options.ca === true,
              }),
          );
          if (options.json) return printJson(list);
          print(list);
        }),
    );
}
