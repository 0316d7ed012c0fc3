/**
 * What the fleet verbs (`query`, `deployment`, `enrollment`) share: errors that point at the
 * line and column of a query or target condition, issues with their JSON paths, and rows of
 * twins printed as a table.
 */
import { MgmtError } from "./_client.ts";
import { printTable } from "./_shared.ts";

/**
 * Rethrows a daemon error with what its detail adds: the offending line of `text` with a caret
 * under the column, or each issue's JSON path.
 */
export function explainFleetError(error: unknown, text?: string): never {
  if (!(error instanceof MgmtError)) throw error;
  const detail = error.detail as
    | { line?: number; column?: number; issues?: { path: string; message: string }[] }
    | undefined;
  const lines = [error.message];
  if (text !== undefined && typeof detail?.line === "number" && typeof detail.column === "number") {
    const source = text.split("\n")[detail.line - 1] ?? "";
    lines.push(`  ${source}`, `  ${" ".repeat(Math.max(0, detail.column - 1))}^`);
  }
  for (const issue of detail?.issues?.slice(1) ?? []) {
    lines.push(`  ${issue.path}: ${issue.message}`);
  }
  throw new MgmtError(lines.join("\n"), error.status, error.detail);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/**
 * Prints query results: flat rows (projections, counts) as a table with their own columns;
 * whole twins as device, module, connection and tags.
 */
export function printRows(items: readonly unknown[]): void {
  const rows = items as Record<string, unknown>[];
  const flat = rows.every((row) =>
    typeof row === "object" && row !== null && Object.values(row).every(isPrimitive)
  );
  if (flat) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    printTable(
      rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? ""]))),
      columns,
    );
    return;
  }
  const modules = rows.some((row) => row.moduleId !== undefined);
  const table = rows.map((row) => ({
    device: String(row.deviceId ?? ""),
    module: String(row.moduleId ?? ""),
    connection: String(row.connectionState ?? ""),
    tags: row.tags === undefined ? "" : JSON.stringify(row.tags),
  }));
  printTable(
    table,
    modules ? ["device", "module", "connection"] : ["device", "connection", "tags"],
  );
}
