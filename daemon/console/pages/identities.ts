/**
 * Identities and certificates: leaf and child devices (add, remove; a new device's key is shown
 * once), every certificate's lifetime on a bar with its renewal point, and renewing now.
 */
import { connectionString, IdentityId, publicIdentity } from "../../../security/mod.ts";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { certificateTimeline, certificateTone } from "../cert_timeline.ts";
import type { ConsoleContext } from "../context.ts";
import { formatAgo, formatTime } from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import { actionButton, card, type Html, html, notice, numeric, pill, table } from "../html.ts";
import { type ConsoleRequest, doneNotice, doneRedirect, formFields, render } from "./_shared.ts";

const KIND_LABEL: Record<string, string> = {
  "edge-device": "this device",
  "leaf-device": "leaf device",
  "child-edge-device": "child edge device",
};

function identityTable(c: ConsoleRequest, context: ConsoleContext): Html {
  const registry = context.sources.security.registry;
  const devices = registry.list().filter((identity) => identity.moduleId === undefined);
  const csrf = c.get("session").csrf;
  return table(
    ["Device", "Kind", "Auth", numeric("Modules"), "Created", ""],
    devices.map((identity) => {
      const shown = publicIdentity(identity);
      const removable = identity.kind === "leaf-device" ||
        identity.kind === "child-edge-device";
      return html`
        <tr data-identity="${shown.deviceId}">
          <td><strong>${shown.deviceId}</strong></td>
          <td>${KIND_LABEL[shown.kind] ?? shown.kind}</td>
          <td>${shown.authType}</td>
          <td class="num">${registry.modulesOf(shown.deviceId).length}</td>
          <td>${formatAgo(shown.createdAt)}</td>
          <td class="actions">${removable
            ? actionButton(
              `/identities/${encodeURIComponent(shown.deviceId)}/remove`,
              "Remove",
              csrf,
              {
                tone: "danger",
                confirm:
                  `Remove ${shown.deviceId}? Its connections close and its keys stop working at once.`,
              },
            )
            : ""}</td>
        </tr>
      `;
    }),
  );
}

function addForm(c: ConsoleRequest, value = ""): Html {
  return html`
    <form method="post" action="/identities" class="row">
      <input type="hidden" name="_csrf" value="${c.get("session").csrf}">
      <input type="text" name="deviceId" value="${value}" placeholder="device id, e.g. sensor-7"
        aria-label="device id" required class="grow">
      <select name="auth"
        aria-label="authentication"><option value="sas">SAS key</option><option value="x509">X.509 certificate</option></select>
      <button type="submit" class="btn primary">Add leaf device</button>
    </form>
  `;
}

function certificateTable(c: ConsoleRequest, context: ConsoleContext): Html {
  const certificates = context.sources.security.certificates();
  const now = Date.now();
  const csrf = c.get("session").csrf;
  const warning = context.sources.security.clockWarning;
  return html`
    ${warning ? notice("warn", warning) : ""}${certificateTimeline(certificates, now)}
    ${table(
      ["Certificate", "Kind", numeric("Days left"), "Renews", "Expires"],
      certificates.map((cert) =>
        html`
          <tr data-cert="${cert.kind}:${cert.name}">
            <td><strong>${cert.name}</strong><span class="hint mono">${cert.subject}</span></td>
            <td>${cert.kind}</td>
            <td class="num" data-k="days">${pill(
              certificateTone(cert, now),
              cert.daysLeft.toFixed(1),
            )}</td>
            <td>${cert.renewAt ? formatTime(cert.renewAt) : "\u2014"}</td>
            <td>${formatTime(cert.notAfter)}</td>
          </tr>
        `
      ),
    )}
    <p class="row">${actionButton(
      "/certificates/renew",
      "Renew leaf certificates now",
      csrf,
    )} ${actionButton("/certificates/renew", "Renew the edge CA", csrf, {
      fields: { ca: "true" },
      tone: "danger",
      confirm:
        "Renew the edge CA now? Every leaf is reissued under the new CA; the old one stays trusted during the overlap.",
    })}</p>
  `;
}

function identitiesPage(
  c: ConsoleRequest,
  context: ConsoleContext,
  top: Html | "" = "",
  status: ContentfulStatusCode = 200,
): Response {
  return render(c, context, {
    title: "Identities and certificates",
    section: "/identities",
    subtitle: `trust domain ${context.sources.security.trustDomain}`,
  }, [
    doneNotice(c),
    top,
    card("Devices", [
      identityTable(c, context),
      html`<h2 class="spaced">Add a leaf device</h2>`,
      addForm(c),
    ]),
    card("Certificates", certificateTable(c, context)),
  ], status);
}

async function addDevice(c: ConsoleRequest, context: ConsoleContext): Promise<Response> {
  const fields = await formFields(c);
  const parsed = IdentityId.safeParse(fields.deviceId ?? "");
  const auth = fields.auth === "x509" ? "x509" : "sas";
  if (!parsed.success) {
    return identitiesPage(
      c,
      context,
      notice("error", `Cannot add the device: deviceId ${parsed.error.issues[0]?.message}`),
      400,
    );
  }
  let added;
  try {
    added = await context.sources.security.addDevice(parsed.data, auth);
  } catch (error) {
    return identitiesPage(
      c,
      context,
      notice("error", `Cannot add ${parsed.data}: ${(error as Error).message}`),
      409,
    );
  }
  context.logger.info("console: device added", { deviceId: parsed.data, auth });
  const shown = added.identity.auth.type === "sas"
    ? html`
      <p>Its connection string, shown <strong>only now</strong>:</p>
      <div class="secret" data-k="connection-string">${connectionString(
        context.config,
        added.identity,
      )}</div>
    `
    : html`
      <p>Its certificate and key:</p>
      <div class="secret">${added.certificateFile ?? ""}<br>${added.keyFile ?? ""}</div>
    `;
  return identitiesPage(c, context, card(`Added ${parsed.data}`, shown), 201);
}

/** Registers the identities page and its actions. */
export function identitiesRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/identities", (c) => identitiesPage(c, context));
  app.post("/identities", (c) => addDevice(c, context));
  app.post("/identities/:deviceId/remove", async (c) => {
    const deviceId = c.req.param("deviceId");
    const identity = context.sources.security.registry.get(deviceId);
    if (!identity || (identity.kind !== "leaf-device" && identity.kind !== "child-edge-device")) {
      return identitiesPage(
        c,
        context,
        notice("error", `Cannot remove ${deviceId}: no such leaf or child device`),
        409,
      );
    }
    try {
      await context.sources.security.removeDevice(deviceId);
    } catch (error) {
      return identitiesPage(
        c,
        context,
        notice("error", `Cannot remove ${deviceId}: ${(error as Error).message}`),
        409,
      );
    }
    context.logger.info("console: device removed", { deviceId });
    return doneRedirect(c, "/identities", "removed");
  });
  app.post("/certificates/renew", async (c) => {
    const ca = (await formFields(c)).ca === "true";
    try {
      await context.sources.security.renew({ ca });
    } catch (error) {
      return identitiesPage(
        c,
        context,
        notice("error", `Cannot renew: ${(error as Error).message}`),
        409,
      );
    }
    context.logger.info("console: certificates renewed", { ca });
    return doneRedirect(c, "/identities", "renewed");
  });
}
