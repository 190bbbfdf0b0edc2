import { createRequestHandler } from "@remix-run/node";
const build = await import("/work/main/build/index.js");
const handler = createRequestHandler(build, "production");
const me = { id: "usr_1", email: "a@example.com", name: "Alice", workspaces: [{ id: "ws_1", name: "Acme", role: "owner" }, { id: "ws_2", name: "Other", role: "viewer" }] };
const graphql = async (request, query, variables) => {
  const cookie = request.headers.get("cookie") ?? "";
  if (!cookie.includes("algo_session")) {
    if (query.includes("logIn")) return variables.input.password === "secret123" ? { data: { logIn: { token: "tok" } } } : { errors: [{ message: "Wrong email or password", extensions: { code: "UNAUTHENTICATED" } }] };
    return { errors: [{ message: "Sign in", extensions: { code: "UNAUTHENTICATED" } }] };
  }
  if (query.includes("query Editor")) {
    if (variables.id === "missing") return { errors: [{ message: "Workflow not found", extensions: { code: "NOT_FOUND" } }] };
    return { data: { me, workflow: { id: variables.id, name: "Demo flow", workspaceId: "ws_1" }, stepTypes: [{ type: "http.request", label: "HTTP request", category: "action", description: "d", configSchema: {} }] } };
  }
  if (query.includes("query Workflows")) return { data: { me, workflows: { edges: [{ node: { id: "wf_1", name: "Demo flow", description: "", updatedAt: "" } }] } } };
  if (query.includes("query Me")) return { data: { me } };
  if (query.includes("createWorkflow")) return { data: { createWorkflow: { id: "wf_new" } } };
  return { errors: [{ message: "?" }] };
};
const ctx = { graphql };
async function get(path, init = {}) {
  const res = await handler(new Request("http://localhost:3000" + path, init), ctx);
  const text = await res.text();
  console.log("==", init.method ?? "GET", path, res.status, res.headers.get("location") ?? "", res.headers.get("set-cookie") ?? "");
  return text;
}
const c = { headers: { cookie: "algo_session=tok" } };
await get("/");
await get("/workflows");
let html = await get("/login");
console.log(html.match(/<label[^>]*>[^<]*<\/label>/g));
html = await get("/login", { method: "POST", body: new URLSearchParams({ email: "a@example.com", password: "wrong" }) });
console.log(html.match(/role="alert"[^<]*>[^<]*/g));
html = await get("/login?redirectTo=/workflows/wf_1", { method: "POST", body: new URLSearchParams({ email: "bad", password: "" }) });
console.log(html.match(/field-error[^<]*>[^<]*/g));
await get("/login?redirectTo=/workflows/wf_1", { method: "POST", body: new URLSearchParams({ email: "a@example.com", password: "secret123" }) });
html = await get("/workflows", c);
console.log(html.match(/<label[^>]*>[^<]*<\/label>|<button[^>]*>[^<]*<\/button>|<a href="\/workflows\/[^"]*">[^<]*/g));
await get("/workflows", { method: "POST", headers: c.headers, body: new URLSearchParams({ name: "New", workspaceId: "ws_1", intent: "create" }) });
html = await get("/workflows/wf_1", c);
console.log(html.match(/<label[^>]*>[^<]*<\/label>|<button[^>]*>[^<]*<\/button>|data-testid="[^"]*"[^>]*>[^<]*/g));
html = await get("/workflows/missing", c);
console.log(html.match(/<h1>[^<]*|role="alert">[^<]*/g));
await get("/logout", { method: "POST", headers: c.headers });
await get("/signup");
