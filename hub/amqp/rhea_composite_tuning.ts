/**
 * A leaner `create` for five of rhea's composite types, installed by {@linkcode tuneRhea}: the
 * message's header and properties sections (made for every message rhea encodes) and the
 * transfer, disposition and flow performatives (made for every frame of a delivery). rhea's own
 * `create` assigns each key of what it is given through a property setter, which builds the
 * wrapper's name (`"wrap_" + type`) and looks it up per field; for a message section it is given
 * the whole message, so every other key of it (body, annotations, application properties, ...)
 * also became a property of the throwaway section object. The lean one fills the same list
 * with the same wrapped values in the same order (so the same bytes), the wrapper names known
 * once; other keys are kept as rhea keeps them, except on the two message sections, whose
 * object only lives to be encoded.
 *
 * The field lists are rhea 3.0.5's (message.js, frames.js), checked against the composites'
 * accessors when installed: a rhea whose fields differ is left as it is.
 */

/** A field of one of rhea's composite definitions. */
export interface CompositeField {
  name: string;
  type: string;
  mandatory?: boolean;
  multiple?: boolean;
}

/** The parts of rhea's `types` this file calls. */
export interface RheaWrappers {
  Null(): unknown;
  wrap_array(items: unknown[], typecode: number, descriptor: unknown): unknown;
  Sym8: { typecode: number };
  [wrapper: string]: unknown;
}

type Composite = (new () => { value: unknown[] }) & { prototype: object };
type Create = (fields: Record<string, unknown>) => { value: unknown[] };

const HEADER: CompositeField[] = [
  { name: "durable", type: "boolean" },
  { name: "priority", type: "ubyte" },
  { name: "ttl", type: "uint" },
  { name: "first_acquirer", type: "boolean" },
  { name: "delivery_count", type: "uint" },
];

const PROPERTIES: CompositeField[] = [
  { name: "message_id", type: "message_id" },
  { name: "user_id", type: "binary" },
  { name: "to", type: "string" },
  { name: "subject", type: "string" },
  { name: "reply_to", type: "string" },
  { name: "correlation_id", type: "message_id" },
  { name: "content_type", type: "symbol" },
  { name: "content_encoding", type: "symbol" },
  { name: "absolute_expiry_time", type: "timestamp" },
  { name: "creation_time", type: "timestamp" },
  { name: "group_id", type: "string" },
  { name: "group_sequence", type: "uint" },
  { name: "reply_to_group_id", type: "string" },
];

const FLOW: CompositeField[] = [
  { name: "next_incoming_id", type: "uint" },
  { name: "incoming_window", type: "uint", mandatory: true },
  { name: "next_outgoing_id", type: "uint", mandatory: true },
  { name: "outgoing_window", type: "uint", mandatory: true },
  { name: "handle", type: "uint" },
  { name: "delivery_count", type: "uint" },
  { name: "link_credit", type: "uint" },
  { name: "available", type: "uint" },
  { name: "drain", type: "boolean" },
  { name: "echo", type: "boolean" },
  { name: "properties", type: "symbolic_map" },
];

const TRANSFER: CompositeField[] = [
  { name: "handle", type: "uint", mandatory: true },
  { name: "delivery_id", type: "uint" },
  { name: "delivery_tag", type: "binary" },
  { name: "message_format", type: "uint" },
  { name: "settled", type: "boolean" },
  { name: "more", type: "boolean" },
  { name: "rcv_settle_mode", type: "ubyte" },
  { name: "state", type: "delivery_state" },
  { name: "resume", type: "boolean" },
  { name: "aborted", type: "boolean" },
  { name: "batchable", type: "boolean" },
];

const DISPOSITION: CompositeField[] = [
  { name: "role", type: "boolean", mandatory: true },
  { name: "first", type: "uint", mandatory: true },
  { name: "last", type: "uint" },
  { name: "settled", type: "boolean" },
  { name: "state", type: "*" },
  { name: "batchable", type: "boolean" },
];

/** rhea's `wrap_field`: a value of a composite's field as a typed value. */
function wrapField(
  types: RheaWrappers,
  errors: { TypeError: new (message: string) => Error },
  field: CompositeField,
  wrapper: string,
  value: unknown,
): unknown {
  if (value === undefined || value === null) {
    if (field.mandatory) throw new errors.TypeError(`Field ${field.name} is mandatory`);
    return types.Null();
  }
  if (Array.isArray(value)) {
    if (!field.multiple) {
      throw new errors.TypeError(
        `Field ${field.name} does not support multiple values, got ${JSON.stringify(value)}`,
      );
    }
    if (field.type !== "symbol") {
      throw new errors.TypeError(`TODO: Array of type ${field.type} not yet supported`);
    }
    return types.wrap_array(value, types.Sym8.typecode, undefined);
  }
  if (field.type === "*") return value;
  const wrap = types[wrapper] as ((value: unknown) => unknown) | undefined;
  if (wrap) return wrap(value);
  throw new errors.TypeError(`No wrapper for field ${field.name} of type ${field.type}`);
}

/** A `create` for `composite` filling its list directly; other keys kept unless `dropOthers`. */
function leanCreate(
  composite: Composite,
  fields: CompositeField[],
  rhea: { types: RheaWrappers; errors: { TypeError: new (message: string) => Error } },
  dropOthers: boolean,
): Create {
  const index = new Map(fields.map((field, i) => [field.name, i]));
  const wrappers = fields.map((field) => `wrap_${field.type}`);
  return function create(values: Record<string, unknown>) {
    const composed = new composite();
    const list = composed.value;
    for (const name in values) {
      const i = index.get(name);
      if (i !== undefined) {
        list[i] = wrapField(rhea.types, rhea.errors, fields[i]!, wrappers[i]!, values[name]);
      } else if (!dropOthers) {
        (composed as Record<string, unknown>)[name] = values[name];
      }
    }
    return composed;
  };
}

/** The field names of a composite, in order, from its prototype's accessors. */
export function accessorNames(composite: Composite): string[] {
  return Object.entries(Object.getOwnPropertyDescriptors(composite.prototype))
    .filter(([, descriptor]) => descriptor.get !== undefined && descriptor.set !== undefined)
    .map(([name]) => name);
}

function matches(composite: Composite, fields: CompositeField[]): boolean {
  return accessorNames(composite).join() === fields.map((field) => field.name).join();
}

/** rhea's `message` and `frames` modules: each composite's `create` is reachable from them. */
export interface RheaComposites {
  message: { header: Create; properties: Create };
  frames: { transfer: Create; disposition: Create; flow: Create } & Record<string, unknown>;
  types: RheaWrappers;
  errors: { TypeError: new (message: string) => Error };
}

/** Installs the lean `create`s; each only where rhea's fields are the ones listed above. */
export function tuneComposites(rhea: RheaComposites): void {
  const constructorOf = (create: Create) => create({}).constructor as Composite;
  // message.js's section wrappers call `c.create` on the constructor at each encode.
  for (
    const [create, fields] of [[rhea.message.header, HEADER], [
      rhea.message.properties,
      PROPERTIES,
    ]] as const
  ) {
    const composite = constructorOf(create);
    if (matches(composite, fields)) {
      (composite as unknown as { create: Create }).create = leanCreate(
        composite,
        fields,
        rhea,
        true,
      );
    }
  }
  // session.js calls `frames.transfer(...)` (and the others) through the module at each frame.
  for (
    const [name, fields] of [["transfer", TRANSFER], ["disposition", DISPOSITION], [
      "flow",
      FLOW,
    ]] as const
  ) {
    const composite = constructorOf(rhea.frames[name]);
    if (matches(composite, fields)) rhea.frames[name] = leanCreate(composite, fields, rhea, false);
  }
}
