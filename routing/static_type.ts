/** The types the route checker assigns at compile time (IoT Edge's QueryValueType). */

/** The static type of an expression; "dynamic" is a `$body` value, typed per message. */
export type StaticType = "number" | "string" | "bool" | "null" | "undefined" | "dynamic";
