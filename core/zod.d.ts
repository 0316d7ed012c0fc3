// The types of core/zod.js (scripts/vendor_zod.ts): npm zod's own, of the same version.
export * from "npm:zod@4.6.7";
