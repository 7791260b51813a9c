import { createHash } from "node:crypto";

/** A stable JSON encoding: object keys sorted, so the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The identity of one model call: sha256(runId, stepId, attempt, prompt, schema).
 * Unique in the ledger, so a retried or recovered step never sends (or bills) the same call twice.
 */
export function computeOpKey(input: { runId: string; stepId: string; attempt: number; prompt: string; schema: unknown }): string {
  return sha256Hex(canonicalJson([input.runId, input.stepId, input.attempt, input.prompt, input.schema ?? null]));
}
