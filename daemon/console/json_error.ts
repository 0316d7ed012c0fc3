/**
 * Where a JSON text breaks. V8's `JSON.parse` errors no longer say where; a person editing a
 * document wants the line and column, so this strict scanner finds the first offending offset.
 */

/** The first place `text` stops being JSON, and what was expected there. */
export interface JsonErrorPlace {
  /** Character offset, from 0. */
  offset: number;
  expected: string;
}

class Stop {
  constructor(readonly place: JsonErrorPlace) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/**
 * Scans `text` as strict JSON; undefined when it is valid (or too deeply nested to scan).
 *
 * @example
 * ```ts
 * jsonErrorPlace('{"a": }'); // { offset: 6, expected: "a value" }
 * ```
 */
export function jsonErrorPlace(text: string): JsonErrorPlace | undefined {
  let i = 0;
  const stop = (expected: string): never => {
    throw new Stop({ offset: i, expected });
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) stop("a closing quote");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop("no control characters inside a string (escape them)");
      if (c === 0x5c) {
        const escaped = text[i + 1];
        if (escaped === "u") {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) stop("four hex digits after \\u");
          i += 6;
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) stop("a valid escape");
        i += 2;
        continue;
      }
      i++;
    }
  };
  const members = (close: string, member: () => void) => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      stop(`',' or '${close}'`);
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") {
      return members("}", () => {
        space();
        if (text[i] !== '"') stop("a key in double quotes");
        string();
        space();
        if (text[i] !== ":") stop("':'");
        i++;
        value();
      });
    }
    if (c === "[") return members("]", value);
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    stop("a value");
  };
  try {
    value();
    space();
    if (i < text.length) stop("the end of the document");
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.place;
    if (error instanceof RangeError) return undefined; // nested past the stack: JSON.parse says
    throw error;
  }
}
