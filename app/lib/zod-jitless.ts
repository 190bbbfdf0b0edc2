import { config } from "zod";

/**
 * In the browser, zod must not compile parsers with `new Function`: the page's CSP forbids eval
 * (server/security-headers.ts), and zod's probe for it is reported as a violation on every page. It decides
 * when a schema is built, so this module is root.tsx's first import (evaluated before any route's schemas).
 * The server keeps zod's compiled parsers: the studio's server build shares the server's zod.
 */
if (typeof document !== "undefined") config({ jitless: true });
