import { it } from "vitest";
import http from "node:http";
import { startTestStack } from "../support/stack.js";
import { signUp } from "../support/api.js";
it("probe", async () => {
  const stack = await startTestStack({ collab: false, worker: false });
  const user = await signUp(stack.url, "P");
  const body = JSON.stringify({ workspaceId: user.workspaceId, name: "x", description: "x".repeat(1024 * 1024 + 10) });
  await new Promise<void>((resolve) => {
    const req = http.request(`${stack.url}/api/workflows`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${user.token}`, "content-length": Buffer.byteLength(body) } }, (res) => {
      console.log("status", res.statusCode, res.headers);
      let t = ""; res.on("data", (c) => (t += c)); res.on("end", () => { console.log(t); resolve(); });
    });
    req.on("error", (e) => { console.log("err", e); resolve(); });
    req.end(body);
  });
  // chunked, no content-length
  const r = await fetch(`${stack.url}/api/workflows`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` }, body: new Blob([body]).stream(), duplex: "half" } as any).catch((e) => e);
  console.log("chunked", r.status ?? r, r.headers && Object.fromEntries(r.headers));
  const g = await fetch(`${stack.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` }, body: JSON.stringify({ query: "{ me { id } }", variables: { pad: "x".repeat(3_000_000) } }) });
  console.log("gql", g.status, await g.text());
  await stack.close();
});
