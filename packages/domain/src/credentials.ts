import { z } from "zod";

/** C0 control characters and DEL: never part of a key or a header value (they inject headers and lines). */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** A secret's string: refused when it holds a control character, with a message that never quotes it. */
const secretString = (label: string, max: number, trim = true) =>
  (trim ? z.string().trim() : z.string())
    .min(1, `${label} is required`)
    .max(max)
    .refine((value) => !CONTROL_CHARACTER.test(value), { message: `${label} must not contain control characters (newline, tab, NUL, …)` });

/**
 * One input of a credential type's form (the studio's settings page renders these, in this order, posted as
 * `secret.<key>`). `key` is a key of the type's `secretSchema`; `secret` inputs are masked.
 */
export interface CredentialField {
  key: string;
  label: string;
  secret: boolean;
  optional?: boolean;
}

/**
 * Credential types: what a stored secret holds. Secrets are encrypted at rest, decrypted only in the worker,
 * and never readable back through the API (lists show names and types only). `secretFields` are the values
 * the worker redacts from everything it records (errors, outputs, events, logs, job results); `fields` are the
 * inputs of its form, one per key of `secretSchema` (tests/domain checks they match).
 */
export const credentialTypes = {
  openai: {
    label: "OpenAI (or compatible) API key",
    secretFields: ["apiKey"],
    fields: [
      { key: "apiKey", label: "API key", secret: true },
      { key: "baseURL", label: "Base URL (optional, for OpenAI-compatible servers)", secret: false, optional: true },
    ],
    secretSchema: z.object({
      apiKey: secretString("API key", 500),
      /** Any OpenAI-compatible server; the official API when absent. */
      baseURL: z.string().trim().url("baseURL must be a URL").optional(),
    }),
  },
  postmark: {
    label: "Postmark server token",
    secretFields: ["serverToken"],
    fields: [{ key: "serverToken", label: "Server token", secret: true }],
    secretSchema: z.object({ serverToken: secretString("Server token", 500) }),
  },
  httpHeader: {
    label: "HTTP header (e.g. Authorization)",
    secretFields: ["headerValue"],
    fields: [
      { key: "headerName", label: "Header name", secret: false },
      { key: "headerValue", label: "Header value", secret: true },
    ],
    secretSchema: z.object({
      headerName: z.string().trim().min(1, "Header name is required").max(200).regex(/^[A-Za-z0-9-]+$/, "Not a valid header name"),
      headerValue: secretString("Header value", 8000, false),
    }),
  },
} as const satisfies Record<string, { label: string; secretFields: readonly string[]; fields: readonly CredentialField[]; secretSchema: z.ZodObject }>;

export type CredentialType = keyof typeof credentialTypes;
export const CREDENTIAL_TYPE_NAMES = Object.keys(credentialTypes) as CredentialType[];
export type CredentialSecret<T extends CredentialType> = z.output<(typeof credentialTypes)[T]["secretSchema"]>;

export const CreateCredentialInput = z
  .object({
    workspaceId: z.string().min(1, "workspaceId is required"),
    name: z.string().trim().min(1, "Name is required").max(100),
    type: z.enum(CREDENTIAL_TYPE_NAMES as [CredentialType, ...CredentialType[]]),
    secret: z.record(z.string(), z.unknown()),
  })
  .superRefine((input, ctx) => {
    const result = credentialTypes[input.type].secretSchema.safeParse(input.secret);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: "custom", path: ["secret", ...issue.path.filter((p) => typeof p !== "symbol")], message: issue.message });
    }
  });
export type CreateCredentialInput = z.infer<typeof CreateCredentialInput>;
