import { z } from "zod";
import { WorkflowDefinition } from "./definition.js";
import { ROLES, RUN_STATUSES } from "./statuses.js";

/**
 * Inputs of the public API, validated once here and used by GraphQL, REST and the studio's forms.
 * Names follow the GraphQL input types (`SignUpInput`, ...).
 */
export const Email = z.string().trim().toLowerCase().email("Enter a valid email address").max(320);
export const Password = z.string().min(8, "Password must be at least 8 characters").max(200);

export const SignUpInput = z.object({
  email: Email,
  password: Password,
  name: z.string().trim().min(1, "Name is required").max(100),
});
export type SignUpInput = z.infer<typeof SignUpInput>;

export const LogInInput = z.object({ email: Email, password: z.string().min(1, "Password is required").max(200) });
export type LogInInput = z.infer<typeof LogInInput>;

export const CreateWorkspaceInput = z.object({ name: z.string().trim().min(1, "Name is required").max(100) });
export type CreateWorkspaceInput = z.infer<typeof CreateWorkspaceInput>;

export const InviteMemberInput = z.object({ workspaceId: z.string().min(1), email: Email, role: z.enum(ROLES) });
export type InviteMemberInput = z.infer<typeof InviteMemberInput>;

/** A member's new role (owners only; the last owner keeps theirs). */
export const SetMemberRoleInput = z.object({ workspaceId: z.string().min(1), userId: z.string().min(1, "userId is required"), role: z.enum(ROLES) });
export type SetMemberRoleInput = z.infer<typeof SetMemberRoleInput>;

/** The secret of an invite link (`/invite/<token>`). */
export const InviteToken = z.string().trim().min(1, "The invite link has no token").max(200);
export const AcceptInviteInput = z.object({ token: InviteToken });
export type AcceptInviteInput = z.infer<typeof AcceptInviteInput>;

export const CreateWorkflowInput = z.object({
  workspaceId: z.string().min(1, "workspaceId is required"),
  name: z.string().trim().min(1, "Name is required").max(200),
  description: z.string().max(5000).optional(),
  /** A full definition; when absent the workflow starts with a manual trigger. Its name/description win over the definition's. */
  definition: z.unknown().optional(),
});
export type CreateWorkflowInput = z.infer<typeof CreateWorkflowInput>;

/**
 * The largest workflow document (its encoded Y.Doc state) an API write may leave behind: reading one this size
 * takes ~100 ms of a server's event loop. Writes that would grow a document past it are PAYLOAD_TOO_LARGE; the
 * collab service applies the same cap to live edits (docs/security.md, "Query cost").
 */
export const MAX_WORKFLOW_DOC_BYTES = 2 * 1024 * 1024;

/** Run inputs are JSON objects up to 256 KiB serialised. */
export const MAX_RUN_INPUT_BYTES = 256 * 1024;
export const RunInput = z
  .unknown()
  .default({})
  .refine((value) => JSON.stringify(value ?? null).length <= MAX_RUN_INPUT_BYTES, `Run input is larger than ${MAX_RUN_INPUT_BYTES} bytes`);

export const StartRunInput = z.object({
  workflowId: z.string().min(1, "workflowId is required"),
  input: RunInput,
  /** R4: the trigger step the run starts at; default: the workflow's only manual trigger (else its only trigger). */
  triggerStepId: z.string().min(1, "triggerStepId cannot be empty").max(64).nullish(),
});
export type StartRunInput = z.infer<typeof StartRunInput>;

export const RunsFilter = z.object({ workflowId: z.string().min(1), status: z.enum(RUN_STATUSES).optional() });

/** Page sizes of every list. */
export const PageArgs = z.object({
  first: z.number().int().min(1, "first must be at least 1").max(100, "first must be at most 100").default(20),
  after: z.string().max(200).nullish(),
});



export const RefreshSessionInput = z.object({ refreshToken: z.string().min(1, "refreshToken is required").max(200) });
export type RefreshSessionInput = z.infer<typeof RefreshSessionInput>;

export const CreateApiTokenInput = z.object({ name: z.string().trim().min(1, "Name is required").max(100) });
export type CreateApiTokenInput = z.infer<typeof CreateApiTokenInput>;

export const UpdateWorkflowInput = z.object({
  id: z.string().min(1, "id is required"),
  name: z.string().trim().min(1, "Name is required").max(200).optional(),
  description: z.string().max(5000).optional(),
  /** A full definition to make the workflow hold (applied as a minimal change live editors receive). */
  definition: z.unknown().optional(),
});
export type UpdateWorkflowInput = z.infer<typeof UpdateWorkflowInput>;

/** The export format of a workflow: the definition with a format marker, importable anywhere. */
export const WORKFLOW_EXPORT_FORMAT = "algorythmos.workflow/v1";
export const ImportWorkflowInput = z.object({
  workspaceId: z.string().min(1, "workspaceId is required"),
  /** An export (`{ format, definition }`) or a bare definition. */
  json: z.unknown(),
});
export type ImportWorkflowInput = z.infer<typeof ImportWorkflowInput>;

export const CreateVersionInput = z.object({
  workflowId: z.string().min(1, "workflowId is required"),
  label: z.string().trim().min(1, "Label is required").max(200),
});
export type CreateVersionInput = z.infer<typeof CreateVersionInput>;
/** The label of the version saved automatically before a restore (restoreVersion, and the studio's restore). */
export function beforeRestoreLabel(version: { version: number; label: string }): string {
  const label = `Before restoring v${version.version} “${version.label}”`;
  return label.length <= 200 ? label : `${label.slice(0, 198)}…”`;
}

export const RetryRunInput = z.object({
  runId: z.string().min(1, "runId is required"),
  fromStepId: z.string().min(1, "fromStepId is required"),
  /** Replaces that step's config for this run (validated against the step type); omit to keep it. */
  input: z.unknown().optional(),
});
export type RetryRunInput = z.infer<typeof RetryRunInput>;

export const TestConnectorInput = z.object({
  /** A step type with an external system: http.request, openai.chat, email.postmark. */
  type: z.enum(["http.request", "openai.chat", "email.postmark"], "type must be http.request, openai.chat or email.postmark"),
  config: z.record(z.string(), z.unknown()).default({}),
  credentialId: z.string().min(1).nullish(),
});
export type TestConnectorInput = z.infer<typeof TestConnectorInput>;
