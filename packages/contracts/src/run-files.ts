import { z } from "zod";

/** One agent session of a run (the plan agent's, the build agent's), oldest first. */
export const RunSession = z.object({
  sessionId: z.string(),
  /** the OpenCode agent the session ran: "plan", "build", … */
  agent: z.string(),
  createdAt: z.string(),
});
export type RunSession = z.infer<typeof RunSession>;

export const RunSessionList = z.object({ sessions: z.array(RunSession) });
export type RunSessionList = z.infer<typeof RunSessionList>;

/** The artifact names a route takes: the `name` of one of the run's artifacts (it may contain "/"). */
export const ArtifactName = z.string().min(1).max(500);
