-- Draft and publish (#15): published versions, active workflows, attributed edits, child runs, approvals
-- and webhook idempotency keys.
ALTER TYPE "StepStatus" ADD VALUE IF NOT EXISTS 'waiting';

ALTER TABLE "Workflow" ADD COLUMN "publishedVersionId" TEXT;
ALTER TABLE "Workflow" ADD COLUMN "active" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "WorkflowUpdate" ADD COLUMN "authorId" TEXT;
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'snapshot';
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "message" TEXT NOT NULL DEFAULT '';
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "diff" JSONB;

ALTER TABLE "Run" ADD COLUMN "versionId" TEXT;
ALTER TABLE "Run" ADD COLUMN "parentRunId" TEXT;
ALTER TABLE "Run" ADD COLUMN "parentStepId" TEXT;
ALTER TABLE "Run" ADD COLUMN "depth" INTEGER NOT NULL DEFAULT 0;
CREATE INDEX "Run_parentRunId_idx" ON "Run"("parentRunId");

CREATE TABLE "RunApproval" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "decision" TEXT,
    "comment" TEXT,
    "data" JSONB,
    "decidedById" TEXT,
    "decidedVia" TEXT,
    "decidedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "RunApproval_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "RunApproval_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "RunApproval_tokenHash_key" ON "RunApproval"("tokenHash");
CREATE UNIQUE INDEX "RunApproval_runId_stepId_key" ON "RunApproval"("runId", "stepId");

CREATE TABLE "WebhookRequest" (
    "workflowId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebhookRequest_pkey" PRIMARY KEY ("workflowId", "key"),
    CONSTRAINT "WebhookRequest_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "WebhookRequest_createdAt_idx" ON "WebhookRequest"("createdAt");

-- Workflows that existed before publishing: their current definition is published once, so their webhooks
-- and cron triggers keep running what they ran before the upgrade.
WITH published AS (
  INSERT INTO "WorkflowSnapshot" ("id", "workflowId", "version", "label", "kind", "message", "yjsState", "definition", "createdAt")
  SELECT 'ver_' || replace(gen_random_uuid()::text, '-', ''), w."id", w."latestVersion" + 1, 'Published on upgrade', 'published',
         'Published automatically when draft and publish arrived', w."yjsState", w."definition", CURRENT_TIMESTAMP
  FROM "Workflow" w
  RETURNING "id", "workflowId", "version"
)
UPDATE "Workflow" w SET "publishedVersionId" = published."id", "latestVersion" = published."version"
FROM published WHERE published."workflowId" = w."id";
