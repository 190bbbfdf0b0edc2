import { builder } from "../builder.js";
import { testConnector } from "../../services/connectors.js";

const ConnectorTestResultRef = builder.objectRef<{ ok: boolean; message: string }>("ConnectorTestResult").implement({
  description: "How a connector test went.",
  fields: (t) => ({
    ok: t.exposeBoolean("ok", { description: "The connection works." }),
    message: t.exposeString("message", { description: "What was tried and what came back, for people." }),
  }),
});

const TestConnectorInput = builder.inputType("TestConnectorInput", {
  description: "A connector to try.",
  fields: (t) => ({
    type: t.string({ required: true, description: "The step type: http.request, openai.chat or email.postmark." }),
    config: t.field({ type: "JSON", description: "The step config to try (for http.request: method and url)." }),
    credentialId: t.id({ description: "A credential of the workspace to try it with." }),
  }),
});

builder.mutationField("testConnector", (t) =>
  t.field({
    type: ConnectorTestResultRef,
    description: "Tries a connector from a worker, with the guards a run uses. Never sends email or side-effecting requests.",
    args: { input: t.arg({ type: TestConnectorInput, required: true, description: "The connector." }) },
    resolve: (_root, { input }, ctx) => testConnector(ctx.deps, ctx.caller, input),
  }),
);
