/**
 * Who is acting: the optional `X-Kodo-Actor` header names the person behind a request (an
 * approver). With one shared API token the name is declared by the client, not authenticated:
 * anyone holding the token can claim any name. Without the header the app's configured actor acts.
 */
import type { Context } from "hono";
import { ActorName } from "@kodo/contracts";
import { KodoError } from "../lib/errors.js";

export const ACTOR_HEADER = "x-kodo-actor";

export function actorOf(c: Context, fallback: string): string {
  const raw = c.req.header(ACTOR_HEADER);
  if (raw === undefined) return fallback;
  const parsed = ActorName.safeParse(raw);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? "invalid name";
  throw new KodoError("VALIDATION_FAILED", `X-Kodo-Actor: ${message}`, { details: { issues: [{ path: "X-Kodo-Actor", message }] } });
}
