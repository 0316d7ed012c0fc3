/**
 * What a query must satisfy beyond its grammar: aggregates and plain paths mix only with
 * GROUP BY, every plain path of a grouped SELECT is one of the grouped paths, `SELECT *` is not
 * grouped, and result names are unique.
 *
 * @module
 */
import type { ErrorAt } from "../routing/mod.ts";
import type { PathExpr, QueryAst } from "./query_ast.ts";

function pathKey(path: PathExpr): string {
  return JSON.stringify(path.segments);
}

/** Checks the SELECT list against GROUP BY; calls `fail` (which throws) on the first problem. */
export function checkProjections(
  ast: QueryAst,
  fail: (at: number, details: ErrorAt) => never,
): void {
  if (ast.select === "*") {
    const first = ast.groupBy[0];
    if (first !== undefined) {
      fail(first.at, {
        found: first.text,
        expected: "no GROUP BY with SELECT *",
        reason: "SELECT * cannot be grouped",
        hint: "select the grouped paths and aggregates, e.g. SELECT x AS x, COUNT() AS n",
      });
    }
    return;
  }
  const grouped = new Set(ast.groupBy.map(pathKey));
  const hasAggregate = ast.select.some((projection) => projection.kind === "aggregate");
  const names = new Set<string>();
  for (const projection of ast.select) {
    if (names.has(projection.name)) {
      fail(projection.at, {
        found: projection.name,
        expected: "a unique name",
        reason: `two results are named ${JSON.stringify(projection.name)}`,
        hint: "give one of them another name with AS",
      });
    }
    names.add(projection.name);
    if (projection.kind !== "path") continue;
    const inGroup = grouped.has(pathKey(projection.path));
    if ((hasAggregate || grouped.size > 0) && !inGroup) {
      fail(projection.at, {
        found: projection.path.text,
        expected: grouped.size > 0 ? "a grouped path or an aggregate" : "an aggregate",
        reason: `${projection.path.text} is neither aggregated nor in GROUP BY`,
        hint: `add GROUP BY ${projection.path.text}, or select only aggregates such as COUNT()`,
      });
    }
  }
}
