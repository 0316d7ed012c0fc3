/**
 * Lint rules for the size of code (docs/architecture.md): no function over 80 lines, no file over
 * 400, outside tests. The factory-closure style hid whole components inside one function; small
 * top-level functions and classes keep an outline a reader and a tool can follow.
 *
 * What is over today is listed in {@link KNOWN_OVERSIZE} with the work that will split it; the
 * list only shrinks.
 */

/** Longest function body, in lines. */
export const MAX_FUNCTION_LINES = 80;
/** Longest source file, in lines (data files excepted by name below). */
export const MAX_FILE_LINES = 400;

/**
 * Known exceptions: `path` (the file) or `path#function`. Each names the issue or reason.
 * Remove an entry when its split lands.
 */
export const KNOWN_OVERSIZE: ReadonlyMap<string, string> = new Map([
  // The hub's core, listeners and composition: left by the data-plane rework (issue 13).
  [
    "hub/hub.ts#createHubCore",
    "the hub core: one closure of the broker's handlers and the Hub methods (ingest: telemetry_ingest.ts, twins: hub_twins.ts, deliveries: module_deliveries.ts, stats: hub_stats.ts)",
  ],
  ["hub/listeners.ts#startListeners", "one function per listener kind, to be split"],
  ["hub/mod.ts#createHubComponent", "the hub's composition: heads, listeners, store"],
  ["hub/sink_pump.ts#startSinkPump", "issue 13: one delivery pump for MQTT and the other heads"],
  ["hub/http_device/device_api.ts#createDeviceApi", "routes of one API; to become named handlers"],
  // Data: the default configuration, written out key by key beside its template.
  ["core/config.ts#defaultConfig", "data"],
  // A browser script: one IIFE around the page's behaviour, served as is.
  ["daemon/console/assets/console.js#(anonymous)", "browser script module wrapper"],
  // Benchmarks: figure tables and their setup.
  ["bench/store.ts", "issue 13: the store figures"],
  ["bench/store.ts#benchStore", "issue 13: the store figures"],
]);

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** Whether `filename` is a test (test files hold long tables and scenarios by nature). */
function isTest(filename: string): boolean {
  return filename.endsWith("_test.ts") || /\/tests\//.test(filename);
}

/** The path of `filename` from the project root (the folder holding deno.json). */
function projectPath(filename: string): string {
  const root = new URL("..", import.meta.url).pathname;
  return filename.startsWith(root) ? filename.slice(root.length) : filename;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** The name a reader would use for a function: its own, its variable's, key's or method's. */
function functionName(node: FunctionNode): string {
  if (node.type !== "ArrowFunctionExpression" && node.id) return node.id.name;
  const parent = node.parent as Deno.lint.Node | undefined;
  if (parent?.type === "VariableDeclarator" && parent.id.type === "Identifier") {
    return parent.id.name;
  }
  if (
    (parent?.type === "MethodDefinition" || parent?.type === "Property" ||
      parent?.type === "PropertyDefinition") && parent.key.type === "Identifier"
  ) return parent.key.name;
  if (parent?.type === "MethodDefinition" && parent.key.type === "PrivateIdentifier") {
    return `#${parent.key.name}`;
  }
  return "(anonymous)";
}

function checkFunction(context: Deno.lint.RuleContext, node: FunctionNode): void {
  if (isTest(context.filename)) return;
  const text = context.sourceCode.text;
  const lines = lineOf(text, node.range[1]) - lineOf(text, node.range[0]) + 1;
  if (lines <= MAX_FUNCTION_LINES) return;
  const name = functionName(node);
  if (KNOWN_OVERSIZE.has(`${projectPath(context.filename)}#${name}`)) return;
  context.report({
    node,
    message: `${name} is ${lines} lines (at most ${MAX_FUNCTION_LINES})`,
    hint: "split it into named top-level functions or a small class of methods",
  });
}

const plugin: Deno.lint.Plugin = {
  name: "ledge-size",
  rules: {
    "max-function-lines": {
      create(context) {
        return {
          FunctionDeclaration: (node) => checkFunction(context, node),
          FunctionExpression: (node) => checkFunction(context, node),
          ArrowFunctionExpression: (node) => checkFunction(context, node),
        };
      },
    },
    "max-file-lines": {
      create(context) {
        return {
          Program(node) {
            if (isTest(context.filename)) return;
            const lines = lineOf(context.sourceCode.text, node.range[1]);
            if (lines <= MAX_FILE_LINES) return;
            if (KNOWN_OVERSIZE.has(projectPath(context.filename))) return;
            context.report({
              range: [0, 0],
              message: `${
                projectPath(context.filename)
              } is ${lines} lines (at most ${MAX_FILE_LINES})`,
              hint: "split it along its concepts, one file each",
            });
          },
        };
      },
    },
  },
};

export default plugin;
