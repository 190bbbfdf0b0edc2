/** Calls to our API as a consumer makes them (GraphQL over HTTP), for scenario set-up. */
export async function gql<Data = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Data> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL call failed (${response.status}): ${JSON.stringify(body.errors)}`);
  return body.data;
}

export interface BenchUser {
  token: string;
  workspaceId: string;
}

let users = 0;
export async function signUp(url: string): Promise<BenchUser> {
  const email = `bench-${Date.now()}-${users++}@example.test`;
  const signed = await gql(url, `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, {
    input: { email, password: "correct horse battery", name: "Bench" },
  });
  const token: string = signed.signUp.token;
  const me = await gql(url, `{ me { workspaces { id } } }`, {}, token);
  return { token, workspaceId: me.me.workspaces[0].id };
}

export async function createWorkflow(url: string, user: BenchUser, definition: { name: string } & Record<string, unknown>) {
  const data = await gql(
    url,
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`,
    { input: { workspaceId: user.workspaceId, name: definition.name, definition } },
    user.token,
  );
  const workflow = data.createWorkflow as { id: string; webhookPath: string | null };
  // Webhooks run the published version only (R37): a workflow with a webhook trigger is published at once.
  const steps = (definition.steps ?? []) as { type?: string }[];
  if (steps.some((candidate) => candidate.type === "trigger.webhook")) {
    await gql(url, `mutation($input: PublishWorkflowInput!) { publishWorkflow(input: $input) { version { id } } }`, { input: { workflowId: workflow.id, message: "bench" } }, user.token);
  }
  return workflow;
}

export const step = (id: string, type: string, config: Record<string, unknown> = {}, x = 0) => ({ id, type, name: id, config, position: { x, y: 0 } });
export const edge = (source: string, target: string, label?: "true" | "false") => ({ id: `e-${source}-${target}`, source, target, ...(label ? { label } : {}) });

/** POSTs JSON and returns status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}
