-- Draft and publish (#15), details of a publication: the update-log head it was made at (attribution of the
-- edits since then reads the log after it), the version a rollback published again, and whether the publisher
-- overrode failing test cases.
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "logSeq" BIGINT;
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "sourceVersionId" TEXT;
ALTER TABLE "WorkflowSnapshot" ADD COLUMN "overrideFailingTests" BOOLEAN NOT NULL DEFAULT false;
