-- AlterTable
ALTER TABLE "Workflow" ADD COLUMN     "webhookSecret" TEXT NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "fromStepId" TEXT,
ADD COLUMN     "retryOfRunId" TEXT,
ADD COLUMN     "stepInputOverride" JSONB;

