/**
 * The workflowPublication subscription (#17, live publish state) over graphql-ws, across two server instances
 * sharing Redis: the first event is the state as it is; publishing, deactivating and activating on instance A
 * each reach a subscriber on instance B, once; members of the workspace may subscribe (viewers too), others
 * learn nothing (NOT_FOUND, as the other subscriptions), anonymous callers are UNAUTHENTICATED, and a member
 * removed while subscribed is ended with FORBIDDEN.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, publishWorkflow, signUp, startSibling, type Account } from "../support/api.js";
import { graphqlWsClient, startTestStack, waitFor } from "../support/stack.js";

let a: Stack;
let b: Stack;
let owner: Account;
let viewer: Account;
let outsider: Account;

beforeAll(async () => {
  a = await startTestStack({ collab: false, worker: false });
  b = await startSibling(a);
  [owner, viewer, outsider] = await Promise.all([signUp(a.url, "PubOwner"), signUp(a.url, "PubViewer"), signUp(a.url, "PubOutsider")]);
  await invite(a.url, owner, owner.workspaceId, viewer, "viewer");
}, 60_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const PUBLICATION = `subscription($id: ID!) {
  workflowPublication(workflowId: $id) { workflowId active publishedVersionId publishedVersion publishedAt publishedBy { name } published { message } }
}`;

interface Publication {
  workflowId: string;
  active: boolean;
  publishedVersionId: string | null;
  publishedVersion: number | null;
  publishedAt: string | null;
  publishedBy: { name: string } | null;
  published: { message: string } | null;
}

function subscribe(client: Client, workflowId: string) {
  const events: Publication[] = [];
  let error: unknown = null;
  const done = new Promise<void>((resolve) => {
    client.subscribe({ query: PUBLICATION, variables: { id: workflowId } }, {
      next: (message) => {
        if (message.errors) error = message.errors;
        else events.push((message.data as { workflowPublication: Publication }).workflowPublication);
      },
      error: (e) => {
        error = e;
        resolve();
      },
      complete: resolve,
    });
  });
  return { events, done, error: () => error };
}

const codesOf = (error: unknown): string[] => (Array.isArray(error) ? error.map((e) => String(e?.extensions?.code)) : [String((error as { code?: number } | null)?.code ?? error)]);
const setActive = (workflowId: string, active: boolean) =>
  gql(a.url, `mutation($input: SetWorkflowActiveInput!) { setWorkflowActive(input: $input) { active } }`, { input: { workflowId, active } }, owner.token).then(ok);

describe("workflowPublication", () => {
  it("the state as it is first, then each publish, deactivate and activate made on another instance, once each", async () => {
    const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Published ${Date.now()}`);
    const client = graphqlWsClient(b.url, viewer.token);
    try {
      const sub = subscribe(client, workflow.id);
      await waitFor("the first event", async () => sub.events.length >= 1);
      expect(sub.events[0]).toEqual({ workflowId: workflow.id, active: true, publishedVersionId: null, publishedVersion: null, publishedAt: null, publishedBy: null, published: null });

      const versionId = await publishWorkflow(a.url, owner.token, workflow.id, "First release");
      await waitFor("the publication on B", async () => sub.events.length >= 2);
      const published = sub.events[1]!;
      expect(published).toMatchObject({ workflowId: workflow.id, active: true, publishedVersionId: versionId, publishedBy: { name: "PubOwner" }, published: { message: "First release" } });
      expect(published.publishedVersion).toBeGreaterThanOrEqual(1);
      expect(Date.now() - Date.parse(published.publishedAt!)).toBeLessThan(60_000);

      await setActive(workflow.id, false);
      await waitFor("the deactivation on B", async () => sub.events.length >= 3);
      expect(sub.events[2]).toMatchObject({ active: false, publishedVersionId: versionId });
      // Deactivating again changes nothing: no event. Activating does.
      await setActive(workflow.id, false);
      await setActive(workflow.id, true);
      await waitFor("the activation on B", async () => sub.events.length >= 4);
      expect(sub.events[3]).toMatchObject({ active: true, publishedVersionId: versionId });
      expect(sub.events.map((e) => e.active)).toEqual([true, true, false, true]);
      expect(sub.error()).toBeNull();
    } finally {
      await client.dispose();
    }
  });

  it("outsiders get NOT_FOUND and anonymous callers UNAUTHENTICATED; a member removed while subscribed is ended with FORBIDDEN", async () => {
    const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Guarded ${Date.now()}`);
    const outsiderClient = graphqlWsClient(b.url, outsider.token);
    try {
      const sub = subscribe(outsiderClient, workflow.id);
      await sub.done;
      expect(codesOf(sub.error())).toEqual(["NOT_FOUND"]);
      expect(sub.events).toEqual([]);
    } finally {
      await outsiderClient.dispose();
    }
    const anonymousClient = createClient({ url: b.url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const sub = subscribe(anonymousClient, workflow.id);
      await sub.done;
      expect(codesOf(sub.error())).toEqual(["UNAUTHENTICATED"]);
    } finally {
      await anonymousClient.dispose();
    }

    const member = await signUp(a.url, "PubLeaver");
    await invite(a.url, owner, owner.workspaceId, member, "editor");
    const memberClient = graphqlWsClient(b.url, member.token);
    try {
      const sub = subscribe(memberClient, workflow.id);
      await waitFor("the member's first event", async () => sub.events.length >= 1);
      ok(await gql(a.url, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, userId: member.userId } }, owner.token));
      await sub.done;
      expect(codesOf(sub.error())).toEqual(["FORBIDDEN"]);
    } finally {
      await memberClient.dispose();
    }
  });
});
