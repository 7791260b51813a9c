/**
 * What the scripted model has been asked: counts per rule and a bounded log, so tests and demos
 * can assert on the conversation OpenCode actually had.
 */
import type { RequestFacts } from "./match.js";

/** Log entries kept (the oldest are dropped first). */
export const STATS_LOG_LIMIT = 200;
/** Characters kept of `lastUser` and `lastToolResult` in a log entry. */
export const STATS_TEXT_LIMIT = 500;

export interface ScriptLogEntry {
  /** 1-based number of the request since start (or the last reset) */
  n: number;
  /** the rule that answered, "default", or null when none matched or the request was invalid */
  rule: string | null;
  lastUser: string;
  lastToolResult: string | null;
  tools: string[];
}

export interface ScriptStats {
  /** chat-completions requests received */
  requests: number;
  /** answers per rule name (every rule is listed, with 0 until it answers) */
  byRule: Record<string, number>;
  /** requests no rule matched (answered with HTTP 400) */
  unmatched: number;
  /** requests whose body was not a chat-completions request (answered with HTTP 400) */
  invalid: number;
  log: ScriptLogEntry[];
}

export interface StatsRecorder {
  /** counts a request and returns its number */
  begin(): number;
  matched(n: number, rule: string, facts: RequestFacts): void;
  unmatched(n: number, facts: RequestFacts): void;
  invalid(n: number): void;
  snapshot(): ScriptStats;
  reset(): void;
}

export function createStatsRecorder(ruleNames: readonly string[]): StatsRecorder {
  let stats = empty();

  function empty(): ScriptStats {
    return { requests: 0, byRule: Object.fromEntries(ruleNames.map((name) => [name, 0])), unmatched: 0, invalid: 0, log: [] };
  }

  function log(entry: ScriptLogEntry): void {
    stats.log.push(entry);
    if (stats.log.length > STATS_LOG_LIMIT) stats.log.splice(0, stats.log.length - STATS_LOG_LIMIT);
  }

  function entry(n: number, rule: string | null, facts: RequestFacts): ScriptLogEntry {
    return {
      n,
      rule,
      lastUser: facts.lastUser.slice(0, STATS_TEXT_LIMIT),
      lastToolResult: facts.lastToolResult === undefined ? null : facts.lastToolResult.slice(0, STATS_TEXT_LIMIT),
      tools: [...facts.tools],
    };
  }

  return {
    begin: () => ++stats.requests,
    matched(n, rule, facts) {
      stats.byRule[rule] = (stats.byRule[rule] ?? 0) + 1;
      log(entry(n, rule, facts));
    },
    unmatched(n, facts) {
      stats.unmatched += 1;
      log(entry(n, null, facts));
    },
    invalid(n) {
      stats.invalid += 1;
      log({ n, rule: null, lastUser: "", lastToolResult: null, tools: [] });
    },
    snapshot: () => structuredClone(stats),
    reset() {
      stats = empty();
    },
  };
}
