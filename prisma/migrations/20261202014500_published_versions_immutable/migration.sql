-- Draft and publish (#15): a published version is an immutable record. Its content cannot be updated (a
-- deleted publisher's authorId may still become NULL), and it cannot be deleted while its workflow exists
-- (deleting the workflow deletes its history: the cascade runs after the workflow row is gone).
CREATE FUNCTION "published_version_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD."kind" = 'published' AND EXISTS (SELECT 1 FROM "Workflow" WHERE "id" = OLD."workflowId") THEN
      RAISE EXCEPTION 'Published version % cannot be deleted', OLD."id" USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD."kind" = 'published' AND (
       NEW."kind" IS DISTINCT FROM OLD."kind" OR NEW."definition" IS DISTINCT FROM OLD."definition"
    OR NEW."yjsState" IS DISTINCT FROM OLD."yjsState" OR NEW."message" IS DISTINCT FROM OLD."message"
    OR NEW."label" IS DISTINCT FROM OLD."label" OR NEW."version" IS DISTINCT FROM OLD."version"
    OR NEW."diff" IS DISTINCT FROM OLD."diff" OR NEW."workflowId" IS DISTINCT FROM OLD."workflowId"
    OR NEW."createdAt" IS DISTINCT FROM OLD."createdAt" OR NEW."logSeq" IS DISTINCT FROM OLD."logSeq"
    OR NEW."sourceVersionId" IS DISTINCT FROM OLD."sourceVersionId"
    OR NEW."overrideFailingTests" IS DISTINCT FROM OLD."overrideFailingTests"
    OR (NEW."authorId" IS DISTINCT FROM OLD."authorId" AND NEW."authorId" IS NOT NULL)
  ) THEN
    RAISE EXCEPTION 'Published version % cannot be changed', OLD."id" USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "WorkflowSnapshot_published_immutable"
  BEFORE UPDATE OR DELETE ON "WorkflowSnapshot"
  FOR EACH ROW EXECUTE FUNCTION "published_version_immutable"();
