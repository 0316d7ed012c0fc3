/**
 * The console's static files, inlined into the program (and so into the single-file bundle):
 * its stylesheet and script, and htmx from its npm package. Nothing is fetched from elsewhere;
 * the device may be offline.
 */
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import css from "./assets/console.css" with { type: "text" };
import script from "./assets/console.js" with { type: "text" };
import icon from "./assets/icon.svg" with { type: "text" };

/** A static file: its body and content type. */
export interface Asset {
  body: string;
  type: string;
}

/** The files served under `/assets/`, by name. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  "console.css": { body: css, type: "text/css; charset=utf-8" },
  "console.js": { body: script, type: "text/javascript; charset=utf-8" },
  "htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8" },
  "icon.svg": { body: icon, type: "image/svg+xml" },
};
