-- The collab log is ordered per workflow: every appended update gets the next "seq" of its workflow
-- (Workflow."updateSeq" is the last one handed out), and compaction records the last seq it folded into
-- "yjsState" ("compactedSeq"). Collab rooms fill gaps by reading rows after the last seq they applied.
ALTER TABLE "Workflow" ADD COLUMN "updateSeq" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "Workflow" ADD COLUMN "compactedSeq" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "WorkflowUpdate" ADD COLUMN "seq" BIGINT;

UPDATE "WorkflowUpdate" AS u SET "seq" = numbered.seq
FROM (SELECT "id", row_number() OVER (PARTITION BY "workflowId" ORDER BY "id") AS seq FROM "WorkflowUpdate") AS numbered
WHERE numbered."id" = u."id";

UPDATE "Workflow" AS w SET "updateSeq" = last.seq
FROM (SELECT "workflowId", max("seq") AS seq FROM "WorkflowUpdate" GROUP BY "workflowId") AS last
WHERE last."workflowId" = w."id";

ALTER TABLE "WorkflowUpdate" ALTER COLUMN "seq" SET NOT NULL;
CREATE UNIQUE INDEX "WorkflowUpdate_workflowId_seq_key" ON "WorkflowUpdate"("workflowId", "seq");
DROP INDEX IF EXISTS "WorkflowUpdate_workflowId_id_idx";
