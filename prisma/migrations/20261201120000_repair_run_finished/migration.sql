-- Issue #11: before a run's state change and its event were one statement, a crash between the two could
-- leave a final run with no stored `run.finished`, and its `runEvents` subscription open forever. This gives
-- every such run the event, built from the run's row exactly as repairFinalEvent
-- (packages/platform/src/run-events.ts) does on a re-delivery. Data only; a run that has one is left alone.
INSERT INTO "RunEvent" ("runId", "payload")
SELECT r."id",
       jsonb_strip_nulls(jsonb_build_object(
         'type', 'run.finished', 'runId', r."id", 'workflowId', r."workflowId", 'status', r."status", 'output', r."output",
         'at', to_char(COALESCE(r."finishedAt", now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
       )) || jsonb_build_object('stepId', NULL, 'error', r."error")
FROM "Run" r
WHERE r."status" IN ('succeeded', 'failed', 'canceled')
  AND NOT EXISTS (SELECT 1 FROM "RunEvent" e WHERE e."runId" = r."id" AND e."payload"->>'type' = 'run.finished')
ORDER BY r."finishedAt" NULLS FIRST, r."id";
