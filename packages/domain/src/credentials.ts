import { z } from "zod";

/**
 * Credential types: what a stored secret holds. Secrets are encrypted at rest, decrypted only in the worker,
 * and never readable back through the API (lists show names and types only).
 */
export const credentialTypes = {
  openai: {
    label: "OpenAI (or compatible) API key",
    secretSchema: z.object({
      apiKey: z.string().trim().min(1, "API key is required").max(500),
      /** Any OpenAI-compatible server; the official API when absent. */
      baseURL: z.string().trim().url("baseURL must be a URL").optional(),
    }),
  },
  postmark: {
    label: "Postmark server token",
    secretSchema: z.object({ serverToken: z.string().trim().min(1, "Server token is required").max(500) }),
  },
  httpHeader: {
    label: "HTTP header (e.g. Authorization)",
    secretSchema: z.object({
      headerName: z.string().trim().min(1, "Header name is required").max(200).regex(/^[A-Za-z0-9-]+$/, "Not a valid header name"),
      headerValue: z.string().min(1, "Header value is required").max(8000),
    }),
  },
} as const;

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
