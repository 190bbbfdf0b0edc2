-- R4: the trigger step a run starts at (null: chosen by the run's trigger kind, as for runs queued before it).
ALTER TABLE "Run" ADD COLUMN "triggerStepId" TEXT;
