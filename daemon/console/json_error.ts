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
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.place;
    if (error instanceof RangeError) return undefined; // nested past the stack: JSON.parse says
    throw error;
  }
}

/** A strict recursive-descent reading of JSON that throws {@link Stop} at the first fault. */
class JsonScanner {
  #i = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  document(): void {
    this.#value();
    this.#space();
    if (this.#i < this.#text.length) this.#stop("the end of the document");
  }

  #stop(expected: string): never {
    throw new Stop({ offset: this.#i, expected });
  }

  #space(): void {
    while (this.#i < this.#text.length && " \t\n\r".includes(this.#text[this.#i]!)) this.#i++;
  }

  #value(): void {
    this.#space();
    const c = this.#text[this.#i];
    if (c === "{") return this.#members("}", () => this.#member());
    if (c === "[") return this.#members("]", () => this.#value());
    if (c === '"') return this.#string();
    NUMBER.lastIndex = this.#i;
    if (NUMBER.test(this.#text)) {
      this.#i = NUMBER.lastIndex;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (this.#text.startsWith(word, this.#i)) {
        this.#i += word.length;
        return;
      }
    }
    this.#stop("a value");
  }

  #member(): void {
    this.#space();
    if (this.#text[this.#i] !== '"') this.#stop("a key in double quotes");
    this.#string();
    this.#space();
    if (this.#text[this.#i] !== ":") this.#stop("':'");
    this.#i++;
    this.#value();
  }

  #members(close: string, member: () => void): void {
    this.#i++;
    this.#space();
    if (this.#text[this.#i] === close) {
      this.#i++;
      return;
    }
    for (;;) {
      member();
      this.#space();
      const c = this.#text[this.#i++];
      if (c === ",") continue;
      if (c === close) return;
      this.#i--;
      this.#stop(`',' or '${close}'`);
    }
  }

  #string(): void {
    this.#i++;
    for (;;) {
      if (this.#i >= this.#text.length) this.#stop("a closing quote");
      const c = this.#text.charCodeAt(this.#i);
      if (c === 0x22) {
        this.#i++;
        return;
      }
      if (c < 0x20) this.#stop("no control characters inside a string (escape them)");
      this.#i += c === 0x5c ? this.#escape() : 1;
    }
  }

  /** The length of the escape at the cursor (a backslash). */
  #escape(): number {
    const escaped = this.#text[this.#i + 1];
    if (escaped === "u") {
      HEX4.lastIndex = this.#i + 2;
      if (!HEX4.test(this.#text)) this.#stop("four hex digits after \\u");
      return 6;
    }
    if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) this.#stop("a valid escape");
    return 2;
  }
}
