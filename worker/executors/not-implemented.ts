import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/**
 * openai.chat and email.postmark (R14) fail clearly until credential storage (encrypted `Credential`
 * rows and the worker's decryption) exists; the SDKs (`openai`, `postmark`) are installed for them.
 */
export const notImplemented = (label: string): Executor<"openai.chat" | "email.postmark"> =>
  async () => {
    throw new StepError(`The ${label} step is not implemented yet`);
  };
