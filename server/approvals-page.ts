/**
 * The signed single-use approval URL (docs/run-engine.md R33): `GET /approvals/:token` shows the step's title and
 * instructions with two buttons; `POST /approvals/:token` (the page's form) decides once. The token is the
 * only credential (256 random bits; stored hashed), so email and chat links work without signing in. The page
 * is plain HTML with no script (the studio's CSP applies: `form-action 'self'`), every value escaped.
 * A used or expired link answers 410.
 */
import { Hono, type Context } from "hono";
import type { ServerDeps } from "./context.js";
import { approvalByToken, decideByToken } from "./services/approvals.js";

const MAX_FORM_BYTES = 64 * 1024;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Algorythmos</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}.instructions{white-space:pre-wrap;background:#f6f8fa;padding:.75rem;border-radius:6px}
textarea{width:100%;min-height:5rem;font:inherit}.actions{display:flex;gap:.75rem;margin-top:1rem}
button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:1px solid #d0d7de;cursor:pointer}
.approve{background:#1f883d;color:#fff;border-color:#1f883d}.reject{background:#cf222e;color:#fff;border-color:#cf222e}</style>
</head><body>${body}</body></html>`;
}

function answer(c: Context, status: 200 | 400 | 404 | 410 | 413, title: string, body: string) {
  c.header("Cache-Control", "no-store");
  // The token is in the URL: no Referer carries it to anything the page links to.
  c.header("Referrer-Policy", "no-referrer");
  return c.html(page(title, body), status);
}

const notFound = (c: Context) => answer(c, 404, "Link not valid", `<h1>This approval link is not valid</h1><p>Check that the whole link was copied.</p>`);
const gone = (c: Context, why: "decided" | "expired" | "not-running", decision?: string | null) =>
  answer(
    c,
    410,
    "Link used",
    why === "decided"
      ? `<h1>Already decided</h1><p>This approval was already decided${decision ? ` (${escapeHtml(decision)})` : ""}; the link works once.</p>`
      : why === "expired"
        ? `<h1>Expired</h1><p>The time for this approval has passed; its default decision applies.</p>`
        : `<h1>No longer waiting</h1><p>The run is no longer waiting for this approval.</p>`,
  );

export function createApprovalPages(deps: ServerDeps): Hono {
  const app = new Hono();

  app.get("/:token", async (c) => {
    const approval = await approvalByToken(deps, c.req.param("token"));
    if (!approval) return notFound(c);
    if (approval.decidedAt) return gone(c, "decided", approval.decision);
    if (approval.expiresAt && approval.expiresAt.getTime() <= Date.now()) return gone(c, "expired");
    if (approval.runStatus !== "running") return gone(c, "not-running");
    const expires = approval.expiresAt ? `<p>Without a decision by ${escapeHtml(approval.expiresAt.toISOString())}, the default decision applies.</p>` : "";
    return answer(
      c,
      200,
      approval.title,
      `<h1>${escapeHtml(approval.title)}</h1>
${approval.instructions ? `<div class="instructions">${escapeHtml(approval.instructions)}</div>` : ""}${expires}
<form method="post"><label for="comment">Comment (optional)</label><textarea id="comment" name="comment" maxlength="10000"></textarea>
<div class="actions"><button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="reject" type="submit" name="decision" value="reject">Reject</button></div></form>`,
    );
  });

  app.post("/:token", async (c) => {
    if (Number(c.req.header("content-length") ?? 0) > MAX_FORM_BYTES) return answer(c, 413, "Too large", "<h1>The form is too large</h1>");
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const decision = form.decision;
    if (decision !== "approve" && decision !== "reject") {
      return answer(c, 400, "Choose a decision", `<h1>Choose Approve or Reject</h1><p>The form was sent without a decision.</p>`);
    }
    const comment = typeof form.comment === "string" && form.comment.trim() ? form.comment.trim().slice(0, 10_000) : null;
    const result = await decideByToken(deps, c.req.param("token"), decision === "approve" ? "approved" : "rejected", comment);
    if (!result.ok) {
      if (result.reason === "missing") return notFound(c);
      return gone(c, result.reason, result.reason === "decided" ? (await approvalByToken(deps, c.req.param("token")))?.decision : null);
    }
    const done = decision === "approve" ? "Approved" : "Rejected";
    return answer(c, 200, done, `<h1>${done}</h1><p>Thank you: “${escapeHtml(result.approval.title)}” is ${done.toLowerCase()}. The run goes on.</p>`);
  });

  return app;
}
