// The conformance table's row type and builder. A `route` without FROM is a condition, run as
// `FROM /messages/* WHERE … INTO $upstream`; its error columns count from the condition's
// first character.
import type { Message } from "../iothub/mod.ts";
import { jsonMessage, SAMPLE, SAMPLE_APP, SAMPLE_BODY } from "./_test_messages.ts";

/** One row of the table. */
export interface ConformanceCase {
  theme: string;
  route: string;
  message: Message;
  /** The message source; `messageSource(message)` when absent. */
  source?: string;
  /** Whether the route fires; absent for rejected routes. */
  fires?: boolean;
  /** Where the route is rejected. */
  error?: { line: number; column: number };
}

/** Collects rows under the current theme. */
export class CaseTable {
  readonly cases: ConformanceCase[] = [];
  #theme = "";

  /** Starts a theme; the rows that follow belong to it. */
  theme(name: string): void {
    this.#theme = name;
  }

  /** The route fires for the message. */
  fires(route: string, message: Message = SAMPLE, source?: string): void {
    this.#add(route, message, source, true);
  }

  /** The route compiles but does not fire for the message. */
  silent(route: string, message: Message = SAMPLE, source?: string): void {
    this.#add(route, message, source, false);
  }

  /** The route is rejected at this line and column. */
  rejects(route: string, column: number, line = 1): void {
    this.cases.push({ theme: this.#theme, route, message: SAMPLE, error: { line, column } });
  }

  #add(route: string, message: Message, source: string | undefined, fires: boolean): void {
    const row: ConformanceCase = { theme: this.#theme, route, message, fires };
    if (source !== undefined) row.source = source;
    this.cases.push(row);
  }
}

/** A twin change notification carrying `body`. */
export function twinNotification(body: unknown): Message {
  return jsonMessage(body, { system: { connectionModuleId: undefined, outputName: undefined } });
}

/** The sample message with extra application properties. */
export function withApp(app: Record<string, string>): Message {
  return jsonMessage(SAMPLE_BODY, { app: { ...SAMPLE_APP, ...app } });
}

/** The sample message with extra or changed system properties. */
export function withSystem(system: Record<string, string | undefined>): Message {
  return jsonMessage(SAMPLE_BODY, { app: SAMPLE_APP, system });
}
