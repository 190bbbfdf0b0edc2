import { TestConnectorInput } from "@algorythmos/domain";
import type { ConnectorTestResult } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { fromZodError, notFound } from "../errors.js";
import { requireUser, requireWorkspaceRole } from "./access.js";

/** How long the API waits for a worker to try the connection. */
export const CONNECTOR_TEST_TIMEOUT_MS = 20_000;

/**
 * "Test connection": a worker tries the connector with the same code and guards a run would use (SSRF check,
 * SDKs, decrypted credential), so a passing test means a run would reach it too. Runs on a worker because
 * only workers hold executors and decrypt secrets.
 */
export async function testConnector(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<ConnectorTestResult> {
  requireUser(caller);
  const parsed = TestConnectorInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { type, config, credentialId } = parsed.data;
  let workspaceId: string | null = null;
  if (credentialId) {
    const credential = await deps.db.credential.findUnique({ where: { id: credentialId }, select: { workspaceId: true } });
    if (!credential) throw notFound("Credential");
    await requireWorkspaceRole(deps.db, caller, credential.workspaceId, "write", "Credential");
    workspaceId = credential.workspaceId;
  }
  const job = await deps.connectorTests.queue.add(
    "test-connector",
    { type, config, credentialId: credentialId ?? null, workspaceId },
    { removeOnComplete: { age: 300 }, removeOnFail: { age: 300 } },
  );
  try {
    return await job.waitUntilFinished(await deps.connectorTests.events(), CONNECTOR_TEST_TIMEOUT_MS);
  } catch (error) {
    const message = (error as Error).message;
    if (/timed out/i.test(message)) return { ok: false, message: `No worker answered within ${CONNECTOR_TEST_TIMEOUT_MS / 1000} s; is a worker running?` };
    return { ok: false, message };
  }
}
