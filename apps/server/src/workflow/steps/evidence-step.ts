import { writeRunEvidence } from "../../evidence/run-evidence.js";
import { describeError, isKodoError } from "../../lib/errors.js";
import { ok, type StepOutcome } from "./outcome.js";
import { services } from "./services.js";

/**
 * WriteEvidence: the run's evidence bundle, once its end status is written. The run's outcome is
 * already decided, so a bundle that cannot be written is reported as a value, never a failed
 * workflow (the run view then shows no `evidencePath`).
 */
export async function writeEvidence(runId: string): Promise<StepOutcome<{ dir: string; manifestSha256: string }>> {
  const { pool, config, clock } = services();
  try {
    const evidence = await writeRunEvidence({ pool, runsDir: config.home.runs, runId, now: clock.now() });
    return ok({ dir: evidence.dir, manifestSha256: evidence.manifestSha256 });
  } catch (error) {
    return { ok: false, code: isKodoError(error) ? error.code : "EVIDENCE_FAILED", message: describeError(error) };
  }
}
