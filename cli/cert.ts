/** `ledge cert list|renew`: the certificates of the running daemon's security manager. */
import { Command } from "commander";
import type { CertificateInfo } from "../security/mod.ts";
import { answer } from "./_client.ts";
import { out, printJson, printTable, withDaemon } from "./_shared.ts";

function print(list: { certificates: CertificateInfo[]; clockWarning?: string | null }): void {
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
            (client) => answer(client.security.v1.certificates.$get()),
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
              answer(client.security.v1.certificates.renew.$post({
                json: { ca: options.ca === true },
              })),
          );
          if (options.json) return printJson(list);
          print(list);
        }),
    );
}
