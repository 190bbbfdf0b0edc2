import { randomBytes } from "node:crypto";
import type { MiddlewareHandler } from "hono";

declare module "hono" {
  interface ContextVariableMap {
    /** This response's CSP nonce: the only inline scripts that run are the ones carrying it (Remix's own). */
    cspNonce: string;
  }
}

/**
 * The studio's content security policy (issue #12 item 14): scripts only from our origin or inline with this
 * response's nonce, no plugins, no <base> rewrites, forms only to us, and no framing by anyone (clickjacking).
 * Styles may be inline: React Flow and Tiptap position elements with style attributes, and a style cannot run
 * code. `connect-src 'self'` covers the same-origin WebSockets (/collab, /graphql).
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * GraphiQL (outside production only) loads its scripts from a CDN with inline glue it does not nonce; its page
 * keeps every rule but the script ones.
 */
const GRAPHIQL_POLICY = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
} as const;

/** Sets the security headers on every response, and a fresh CSP nonce for the studio's page to use. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    const nonce = randomBytes(16).toString("base64");
    c.set("cspNonce", nonce);
    await next();
    const isGraphiQL = c.req.path === "/graphql" && (c.res.headers.get("content-type") ?? "").includes("text/html");
    const headers: Record<string, string> = { ...SECURITY_HEADERS, "Content-Security-Policy": isGraphiQL ? GRAPHIQL_POLICY : contentSecurityPolicy(nonce) };
    try {
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    } catch {
      // Headers of a fetched Response are immutable: answer with a copy.
      c.res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    }
  };
}
