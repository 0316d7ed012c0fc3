/**
 * The connector's management routes: `GET /v1/upstream`, the link's state.
 */
import { Hono } from "hono";
import type { ApiDocs } from "../core/api.ts";
import type { UpstreamState } from "./upstream_state.ts";

/** The upstream routes: the link's state for `ledge check` and operators. */
export function createUpstreamApi(state: () => UpstreamState) {
  return new Hono().get("/v1/upstream", (c) => c.json(state()));
}

/** The upstream routes, as hono's typed client (`hc`) sees them. */
export type UpstreamApi = ReturnType<typeof createUpstreamApi>;

/** The OpenAPI documentation of the upstream routes. */
export const UPSTREAM_API_DOCS: ApiDocs = {
  "GET /v1/upstream": {
    summary: "Upstream connection state (parent, connected, backlog)",
    tag: "upstream",
  },
};
