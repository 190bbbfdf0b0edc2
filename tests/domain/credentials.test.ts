/** The credentials module owns each credential type's form (#17): one input per key of its secret schema. */
import { CREDENTIAL_TYPE_NAMES, credentialTypes } from "@algorythmos/domain";
import { describe, expect, it } from "vitest";

describe("credential types", () => {
  it.each(CREDENTIAL_TYPE_NAMES)("%s: its form fields are exactly its secret schema's keys, optional where the schema is", (type) => {
    const { fields, secretSchema, secretFields } = credentialTypes[type];
    const shape = secretSchema.shape as Record<string, { safeParse(value: unknown): { success: boolean } }>;
    expect(fields.map((field) => field.key).sort()).toEqual(Object.keys(shape).sort());
    for (const field of fields) {
      const optional = "optional" in field && field.optional === true;
      expect(shape[field.key]!.safeParse(undefined).success).toBe(optional);
    }
    // What the worker redacts is entered masked.
    for (const key of secretFields) expect(fields.find((field) => field.key === key)?.secret).toBe(true);
  });
});
