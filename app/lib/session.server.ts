/** The studio's session cookie: an httpOnly copy of the access token the logIn/signUp mutations return. */
export const SESSION_COOKIE = "algo_session";
const MAX_AGE_SECONDS = 12 * 60 * 60;

// The server hands Remix the request as the browser sent it: https behind TLS (PUBLIC_URL, or a trusted
// proxy's X-Forwarded-Proto, see server/studio.ts). A client's own X-Forwarded-Proto is not trusted here.
const isHttps = (request: Request) => new URL(request.url).protocol === "https:";

function cookie(request: Request, value: string, maxAge: number): string {
  const parts = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`];
  if (isHttps(request)) parts.push("Secure");
  return parts.join("; ");
}

export const sessionCookie = (request: Request, token: string) => cookie(request, encodeURIComponent(token), MAX_AGE_SECONDS);
export const clearedSessionCookie = (request: Request) => cookie(request, "", 0);
