import { z } from "zod";

/**
 * Limits on what one task may spend. Tokens and cost add up over every run of the task; wall time
 * and build attempts are per run (time waiting for a plan decision does not count). A repository
 * may set the same limits for all its tasks; the lower of the two holds.
 */
export const Budget = z
  .object({
    /** input + output + reasoning tokens of every model call */
    maxTokens: z.number().int().positive().optional(),
    /** USD, as the ledger prices calls (KODO_MODEL_COST) */
    maxCostUsd: z.number().positive().optional(),
    maxWallSeconds: z.number().int().positive().max(30 * 24 * 3600).optional(),
    maxBuildAttempts: z.number().int().min(1).max(50).optional(),
  })
  .strict();
export type Budget = z.infer<typeof Budget>;
