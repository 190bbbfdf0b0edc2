import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Credential secrets at rest: AES-256-GCM under CREDENTIALS_KEY, stored as iv (12) || tag (16) || ciphertext.
 * GCM authenticates, so a tampered or wrong-key secret fails to decrypt instead of yielding garbage.
 */
export function encryptSecret(keyBase64: string, value: unknown): Uint8Array<ArrayBuffer> {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(keyBase64, "base64"), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), ciphertext]));
}

export function decryptSecret<T = unknown>(keyBase64: string, stored: Uint8Array): T {
  const data = Buffer.from(stored);
  const decipher = createDecipheriv("aes-256-gcm", Buffer.from(keyBase64, "base64"), data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(12, 28));
  const plaintext = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
  return JSON.parse(plaintext.toString("utf8")) as T;
}
