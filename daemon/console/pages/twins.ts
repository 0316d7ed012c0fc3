/**
 * Twins: the desired and reported properties of every module and device here. Desired is
 * edited as a whole JSON document, checked (syntax while typing; IoT Hub's rules on save, each
 * problem named by its path) and sent as the merge patch from the current document.
 */
import type { ConsoleContext } from "../context.ts";
import { formatCount } from "../format.ts";
import type { ConsoleApp } from "../guard.ts";
import { card, empty, type Html, html, notice, numeric, table } from "../html.ts";
import { readDesiredEdit, type TwinEditIssue, withoutMetadata } from "../twin_edit.ts";
import {
  type ConsoleRequest,
  doneNotice,
  doneRedirect,
  formFields,
  hubOf,
  render,
} from "./_shared.ts";

/** A twin's owner. */
interface TwinTarget {
  deviceId: string;
  moduleId?: string;
}

/** Twins the agent writes itself: shown, never edited here (`ledge deploy` changes them). */
const SYSTEM_MODULES = new Set(["$edgeAgent", "$edgeHub"]);

function twinPath(target: TwinTarget): string {
  const device = `/twins/${encodeURIComponent(target.deviceId)}`;
  return target.moduleId === undefined
    ? device
    : `${device}/modules/${encodeURIComponent(target.moduleId)}`;
}

function label(target: TwinTarget): string {
  return target.moduleId === undefined ? target.deviceId : target.moduleId;
}

function targets(
  context: ConsoleContext,
): { modules: TwinTarget[]; devices: { target: TwinTarget; kind: string }[] } {
  const deviceId = context.config.device.id;
  const deployed = context.sources.agent.current()?.modules.map((m) => m.name) ?? [];
  const modules = ["$edgeAgent", "$edgeHub", ...deployed].map((moduleId) => ({
    deviceId,
    moduleId,
  }));
  const devices = context.sources.security.registry.list()
    .filter((identity) => identity.moduleId === undefined && identity.kind !== "edge-device")
    .map((identity) => ({ target: { deviceId: identity.deviceId }, kind: identity.kind }));
  return { modules, devices };
}

function versions(
  context: ConsoleContext,
  target: TwinTarget,
): { desired: number; reported: number } {
  const twin = hubOf(context)?.getTwin(target);
  return {
    desired: Number(twin?.desired.$version ?? 0),
    reported: Number(twin?.reported.$version ?? 0),
  };
}

function twinList(context: ConsoleContext): Html {
  const { modules, devices } = targets(context);
  const row = (target: TwinTarget, kind: string) => {
    const v = versions(context, target);
    return html`
      <tr data-twin="${twinPath(target)}">
        <td><a href="${twinPath(target)}"><strong>${label(target)}</strong></a></td>
        <td>${kind}</td>
        <td class="num">${formatCount(v.desired)}</td>
        <td class="num">${formatCount(v.reported)}</td>
      </tr>
    `;
  };
  const head = ["Twin", "Kind", numeric("Desired version"), numeric("Reported version")];

  return html`${
    card(
      "Modules",
      table(
        head,
        modules.map((t) => row(t, SYSTEM_MODULES.has(t.moduleId!) ? "system module" : "module")),
      ),
    )
  }${
    card(
      "Devices",
      devices.length === 0
        ? empty(html`No leaf or child devices: add one under <a href="/identities">Identities</a>.`)
        : table(head, devices.map((d) => row(d.target, d.kind))),
    )
  }`;
}

function issueList(issues: readonly TwinEditIssue[]): Html {
  return notice(
    "error",
    html`Not saved: ${
      issues.length === 1 ? "one problem" : `${issues.length} problems`
    }<ul class="issues">${
      issues.map((issue) =>
        html`<li><code data-k="issue-path">${issue.path}</code> ${issue.message}</li>`
      )
    }</ul>`,
  );
}

function editor(
  c: ConsoleRequest,
  target: TwinTarget,
  text: string,
  version: number,
): Html {
  return html`
    <form method="post" action="${twinPath(target)}" class="twin-editor">
      <input type="hidden" name="_csrf" value="${c.get("session").csrf}">
      <input type="hidden" name="version" value="${version}">
      <textarea class="json" name="desired" data-validate spellcheck="false"
        aria-label="desired properties (JSON)">${text}</textarea>
      <div
        class="row"><span class="field-error grow" aria-live="polite"></span><button type="submit" class="btn primary">Save desired</button></div>
    </form>
  `;
}

function twinPage(
  c: ConsoleRequest,
  context: ConsoleContext,
  target: TwinTarget,
  edit?: { text: string; issues: TwinEditIssue[]; version: number },
): Response {
  const hub = hubOf(context);
  if (!hub) {
    return render(
      c,
      context,
      { title: label(target), section: "/twins" },
      notice("warn", "The hub is not running."),
      503,
    );
  }
  const twin = hub.getTwin(target);
  const desiredVersion = Number(twin.desired.$version ?? 0);
  const current = JSON.stringify(withoutMetadata(twin.desired), null, 2);
  const system = target.moduleId !== undefined && SYSTEM_MODULES.has(target.moduleId);
  const desired = system
    ? html`
      <p class="sub">Set by the deployment: change it with <code>ledge deploy</code>.</p>
      <pre class="json">${current}</pre>
    `
    : editor(c, target, edit?.text ?? current, edit?.version ?? desiredVersion);
  return render(c, context, {
    title: label(target),
    section: "/twins",
    subtitle: html`<a href="/twins">Twins</a> &rsaquo; ${
      target.moduleId === undefined ? "device" : `module of ${target.deviceId}`
    }`,
  }, [
    doneNotice(c),
    edit ? issueList(edit.issues) : "",
    html`<div class="grid">${
      card(
        "Desired",
        desired,
        html`<span class="aside" data-k="desired-version">version ${desiredVersion}</span>`,
      )
    }${
      card(
        "Reported",
        html`<pre class="json" data-k="reported">${
          JSON.stringify(withoutMetadata(twin.reported), null, 2)
        }</pre>`,
        html`<span class="aside">version ${Number(twin.reported.$version ?? 0)}</span>`,
      )
    }</div>`,
  ], edit ? 400 : 200);
}

async function saveDesired(
  c: ConsoleRequest,
  context: ConsoleContext,
  target: TwinTarget,
): Promise<Response> {
  const hub = hubOf(context);
  const fields = await formFields(c);
  const text = fields.desired ?? "";
  const version = Number(fields.version ?? "NaN");
  if (!hub) return twinPage(c, context, target);
  if (target.moduleId !== undefined && SYSTEM_MODULES.has(target.moduleId)) {
    return twinPage(c, context, target, {
      text,
      version,
      issues: [{ path: "$", message: "set by the deployment; use ledge deploy" }],
    });
  }
  const twin = hub.getTwin(target);
  const edit = readDesiredEdit(text, twin.desired);
  if (!edit.ok) return twinPage(c, context, target, { text, version, issues: edit.issues });
  if (Number(twin.desired.$version ?? 0) !== version) {
    return twinPage(c, context, target, {
      text,
      version: Number(twin.desired.$version ?? 0),
      issues: [{
        path: "$",
        message:
          `changed meanwhile (version ${version} \u2192 ${twin.desired.$version}): compare with the current document, then save again`,
      }],
    });
  }
  if (Object.keys(edit.patch).length === 0) return doneRedirect(c, twinPath(target), "unchanged");
  try {
    hub.patchDesired(target, edit.patch);
    await hub.twinsDurable();
  } catch (error) {
    return twinPage(c, context, target, {
      text,
      version,
      issues: [{ path: "$", message: (error as Error).message }],
    });
  }
  context.logger.info("console: desired properties changed", { twin: twinPath(target) });
  return doneRedirect(c, twinPath(target), "twin");
}

/** Registers the twins pages. */
export function twinsRoutes(app: ConsoleApp, context: ConsoleContext): void {
  app.get("/twins", (c) =>
    render(c, context, {
      title: "Twins",
      section: "/twins",
      subtitle:
        "desired properties go to the module or device at once; reported is what it said last",
    }, twinList(context)));
  const device = (c: ConsoleRequest): TwinTarget => ({ deviceId: c.req.param("deviceId")! });
  const module = (c: ConsoleRequest): TwinTarget => ({
    deviceId: c.req.param("deviceId")!,
    moduleId: c.req.param("moduleId")!,
  });
  app.get("/twins/:deviceId", (c) => twinPage(c, context, device(c)));
  app.get("/twins/:deviceId/modules/:moduleId", (c) => twinPage(c, context, module(c)));
  app.post("/twins/:deviceId", (c) => saveDesired(c, context, device(c)));
  app.post("/twins/:deviceId/modules/:moduleId", (c) => saveDesired(c, context, module(c)));
}
