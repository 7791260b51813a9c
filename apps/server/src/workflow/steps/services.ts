import type { Pool } from "pg";
import type { KodoConfig } from "../../config.js";
import { KodoError } from "../../lib/errors.js";
import type { Clock, Random } from "../../lib/ports.js";
import type { ModelLedger } from "../../model/ledger.js";
import type { AgentPort } from "./agent-port.js";

/**
 * What steps act with. DBOS is one instance per process, so the process that launches it
 * provides these once, before launch; workflow code never sees them.
 */
export interface StepServices {
  pool: Pool;
  config: KodoConfig;
  agent: AgentPort;
  ledger: ModelLedger;
  clock: Clock;
  random: Random;
  /** where run worktrees are created */
  worktreesRoot: string;
}

let current: StepServices | undefined;

export function provideStepServices(services: StepServices | undefined): void {
  current = services;
}

export function services(): StepServices {
  if (current === undefined) throw new KodoError("INTERNAL", "step services are not provided in this process", { retryable: true });
  return current;
}
