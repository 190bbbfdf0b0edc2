import { builder } from "../builder.js";
import { testConnector } from "../../services/connectors.js";

const ConnectorTestResultRef = builder.objectRef<{ ok: boolean; message: string }>("ConnectorTestResult").implement({
  fields: (t) => ({ ok: t.exposeBoolean("ok"), message: t.exposeString("message") }),
});

const TestConnectorInput = builder.inputType("TestConnectorInput", {
  fields: (t) => ({
    type: t.string({ required: true, description: "http.request, openai.chat or email.postmark" }),
    config: t.field({ type: "JSON", description: "The step config to try (for http.request: method and url)." }),
    credentialId: t.id(),
  }),
});

builder.mutationField("testConnector", (t) =>
  t.field({
    type: ConnectorTestResultRef,
    description: "Tries a connector from a worker, with the guards a run uses. Never sends email or side-effecting requests.",
    args: { input: t.arg({ type: TestConnectorInput, required: true }) },
    resolve: (_root, { input }, ctx) => testConnector(ctx.deps, ctx.caller, input),
  }),
);
