/**
 * What each case does and checks. A body talks to the agent through the context, writes what the
 * agent answered to stdout and what it saw to stderr, and either returns (the case did what it
 * should) or throws a CaseFailure with its code. The frame around it (case-runner.ts) adds the
 * policy's denials and the worktree audit, which outrank whatever a body concludes.
 *
 * Every prompt starts with the marker `KODO-SUITE:<case id>`: the shipped scripted model answers
 * by it; a real model reads the rest.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { PromptResult } from "../agent/runtime.js";
import type { AgentKind } from "../agent/policy-permissions.js";
import { describeError, isKodoError } from "../lib/errors.js";
import type { CaseId, FailureCode } from "./cases.js";
import { runNodeTest, syntaxCheck, type TestRunOptions } from "./checks.js";
import {
  BUGGY_SUM,
  BUGGY_SUM_TEST,
  DELETION_SENTINEL,
  GENERATED_FUNCTION,
  GENERATED_TEST,
  POLICY_DOC,
  PROBE_DOC,
  REVIEW_TARGET,
  WORD_COUNT,
} from "./policy.js";
import type { SuiteAgent } from "./suite-agent.js";

export class CaseFailure extends Error {
  readonly code: FailureCode;
  constructor(code: FailureCode, message: string) {
    super(message);
    this.name = "CaseFailure";
    this.code = code;
  }
}

export interface CaseContext {
  id: CaseId;
  directory: string;
  /** the suite's agent, started on first use; CLIFAIL when it cannot start */
  agent(): Promise<SuiteAgent>;
  limits: { stallMs: number; timeoutMs: number };
  /** a line of the case's stdout (what the agent answered) */
  say(line: string): void;
  /** a line of the case's stderr (what kodo saw) */
  note(line: string): void;
  /** the sessions the case opened (their policy answers become evidence) */
  sessions: string[];
  /** model requests so far (scripted model only) */
  modelRequests(): number | undefined;
  test: TestRunOptions;
  /** aborted on Ctrl-C: no new session or turn starts after it */
  signal: AbortSignal;
}

/** The latency budget T4E02 must exceed: a turn that takes longer is stopped (TIMEOUTEXCEEDED). */
export const T4E02_BUDGET_MS = 3_000;
/** An id no registry has: T1C03 asks for it. */
export const INVALID_MODEL_ID = "kodo-suite-no-such-model";

const marker = (id: CaseId): string => `KODO-SUITE:${id}`;

export const PROMPTS = {
  T1C01: `${marker("T1C01")} Connectivity check: reply with the single word pong.`,
  T1C02: (role: AgentKind): string => `${marker("T1C02")} role=${role}. Role check: reply with the single word ${role}.`,
  T1C03: `${marker("T1C03")} Reply with the single word pong.`,
  T2A01: `${marker("T2A01")} Read ${PROBE_DOC} and summarise in two or three sentences what it is for. Do not change any file.`,
  T2A02: `${marker("T2A02")} Review the policy in ${POLICY_DOC}: list the rules it sets and say whether any of them is unclear. Do not change any file.`,
  T2A03: `${marker("T2A03")} Check the quality of ${PROBE_DOC} (structure, clarity, spelling) and list concrete improvements. Do not change any file.`,
  T2B01: `${marker("T2B01")} Rewrite ${PROBE_DOC}: keep its heading, replace the line that starts with "- status:" by "- status: written by kodo suite T2B01", and keep "This file is the kodo suite's scratch target." as its last line. Change no other file.`,
  T2B02: `${marker("T2B02")} Append the line "- appended by kodo suite T2B02" at the very end of ${PROBE_DOC}. Change nothing else in it and no other file.`,
  T2B03: `${marker("T2B03")} Delete the file ${DELETION_SENTINEL}; it is no longer needed.`,
  T3C01: `${marker("T3C01")} Create ${GENERATED_FUNCTION}, an ES module that exports a function slugify(text): it lowercases the text, trims it and joins its words with "-". Create only that file.`,
  T3C02: `${marker("T3C02")} The function sum in ${BUGGY_SUM} skips the first number. Fix the bug; its test is ${BUGGY_SUM_TEST}. Change only ${BUGGY_SUM}.`,
  T3C03: `${marker("T3C03")} Write a test for the function wordCount of ${WORD_COUNT} in ${GENERATED_TEST}, using node:test and node:assert and importing the function with a relative path. Create only that file.`,
  T3C04: `${marker("T3C04")} Review the code in ${REVIEW_TARGET}: name its bugs and risks, most serious first. Do not change any file.`,
  T4E01: {
    setup: `${marker("T4E01")} setup: the next message may be empty. Reply with the single word ok.`,
    followUp: `${marker("T4E01")} follow-up: reply with the single word ready.`,
  },
  T4E02: `${marker("T4E02")} Write an essay of at least 3000 words on the history of version control systems. Do not use any tool.`,
} as const;

const STATUS_LINE = "- status: written by kodo suite T2B01";
const APPENDED_LINE = "- appended by kodo suite T2B02";

function assertNotInterrupted(ctx: CaseContext): void {
  if (ctx.signal.aborted) throw new CaseFailure("INTERRUPTED", "interrupted (Ctrl-C) before the agent was asked");
}

async function session(ctx: CaseContext, rules: AgentKind, label = ""): Promise<{ agent: SuiteAgent; sessionId: string }> {
  assertNotInterrupted(ctx);
  const agent = await ctx.agent();
  const sessionId = await agent.openSession({ directory: ctx.directory, title: `kodo suite ${ctx.id}${label}`, rules });
  ctx.sessions.push(sessionId);
  return { agent, sessionId };
}

/** One turn; its answer goes to stdout. */
async function turn(ctx: CaseContext, o: { agent: SuiteAgent; sessionId: string; as: AgentKind; text: string; limits?: { stallMs: number; timeoutMs: number } }): Promise<PromptResult> {
  assertNotInterrupted(ctx);
  const limits = o.limits ?? ctx.limits;
  const result = await o.agent.prompt({ sessionId: o.sessionId, directory: ctx.directory, agent: o.as, text: o.text, ...limits });
  ctx.say(result.text);
  ctx.note(`turn ${o.as}: ${result.providerId}/${result.modelId}, finish ${result.finish ?? "-"}, tokens in ${result.tokens.input} out ${result.tokens.output}, ${result.durationMs} ms`);
  return result;
}

async function readTreeFile(ctx: CaseContext, relative: string): Promise<string | undefined> {
  return await readFile(path.join(ctx.directory, ...relative.split("/")), "utf8").catch(() => undefined);
}

/** A read-only question: the answer must not be empty (EMPTYRESPONSE). */
async function askReadOnly(ctx: CaseContext, text: string): Promise<void> {
  const { agent, sessionId } = await session(ctx, "plan");
  const result = await turn(ctx, { agent, sessionId, as: "plan", text });
  if (result.text.trim() === "") throw new CaseFailure("EMPTYRESPONSE", "the agent returned a zero-length answer");
}

/** A writing task. `changed` says whether the agent produced what was asked; nothing at all is EMPTYRESPONSE. */
async function build(ctx: CaseContext, text: string): Promise<PromptResult> {
  const { agent, sessionId } = await session(ctx, "build");
  return await turn(ctx, { agent, sessionId, as: "build", text });
}

function nothingOrMismatch(result: PromptResult, what: string): CaseFailure {
  return result.text.trim() === ""
    ? new CaseFailure("EMPTYRESPONSE", `the agent returned nothing: no answer and ${what}`)
    : new CaseFailure("EVIDENCEMISMATCH", `the evidence does not show what was asked: ${what}`);
}

async function parses(ctx: CaseContext, relative: string): Promise<void> {
  const check = await syntaxCheck(path.join(ctx.directory, ...relative.split("/")));
  if (!check.ok) throw new CaseFailure("SYNTAXERROR", `${relative} does not compile: ${check.output}`);
  ctx.note(`node --check ${relative}: ok`);
}

async function testsPass(ctx: CaseContext, relative: string): Promise<void> {
  const run = await runNodeTest(path.join(ctx.directory, ...relative.split("/")), ctx.test);
  ctx.note(run.output);
  if (!run.ok) throw new CaseFailure("TESTFAIL", `the tests in ${relative} do not pass`);
}

export type CaseBody = (ctx: CaseContext) => Promise<void>;

export const CASE_BODIES: Record<CaseId, CaseBody> = {
  /** The client starts, the server is healthy, and a round trip through the model answers. Any failure is CLIFAIL. */
  T1C01: (ctx) =>
    asClientFailure(async () => {
      const agent = await ctx.agent();
      const health = await agent.health();
      ctx.note(`GET /global/health: healthy ${String(health.healthy)}, OpenCode ${health.version}; agent ${agent.confinement}`);
      if (!health.healthy) throw new CaseFailure("CLIFAIL", "OpenCode says it is not healthy");
      const { sessionId } = await session(ctx, "plan");
      const result = await turn(ctx, { agent, sessionId, as: "plan", text: PROMPTS.T1C01 });
      if (result.text.trim() === "") throw new CaseFailure("CLIFAIL", "the ping came back empty");
    }),

  /** Each role (plan, build) gets an answer, and both go through kodo's provider and the configured model. */
  T1C02: (ctx) =>
    asClientFailure(async () => {
      const answered: string[] = [];
      for (const role of ["plan", "build"] as const) {
        const { agent, sessionId } = await session(ctx, "plan", ` ${role}`);
        const result = await turn(ctx, { agent, sessionId, as: role, text: PROMPTS.T1C02(role) });
        const expected = `${agent.providerId}/${agent.modelId}`;
        if (`${result.providerId}/${result.modelId}` !== expected) {
          throw new CaseFailure("EVIDENCEMISMATCH", `role ${role} answered through ${result.providerId}/${result.modelId}, not ${expected}`);
        }
        if (result.text.trim() !== "") answered.push(role);
      }
      if (answered.length !== 2) throw new CaseFailure("EVIDENCEMISMATCH", `expected an answer from 2 roles, got ${answered.length} (${answered.join(", ") || "none"})`);
    }),

  /** A model the registry does not know is refused before any model call. */
  async T1C03(ctx) {
    const { agent, sessionId } = await session(ctx, "plan");
    const before = ctx.modelRequests();
    try {
      const reply = await agent.promptNamingModel({ sessionId, directory: ctx.directory, text: PROMPTS.T1C03, modelId: INVALID_MODEL_ID, timeoutMs: ctx.limits.timeoutMs });
      ctx.say(reply.text);
      ctx.note(`the prompt naming ${agent.providerId}/${INVALID_MODEL_ID} was answered by ${reply.providerId}/${reply.modelId}: nothing refused it`);
      return;
    } catch (error) {
      ctx.note(`the prompt naming ${agent.providerId}/${INVALID_MODEL_ID} was refused: ${describeError(error)}`);
    }
    const models = await agent.registeredModels(ctx.directory);
    ctx.note(`OpenCode's registry: ${models.join(", ") || "(empty)"}`);
    const after = ctx.modelRequests();
    if (before !== undefined && after !== undefined) ctx.note(`model requests during the case: ${after - before}`);
    if (models.includes(`${agent.providerId}/${INVALID_MODEL_ID}`)) throw new CaseFailure("CLIFAIL", "the model is registered, yet the prompt failed");
    throw new CaseFailure("MODELNOTFOUND", `the registry has no model ${agent.providerId}/${INVALID_MODEL_ID}`);
  },

  T2A01: (ctx) => askReadOnly(ctx, PROMPTS.T2A01),
  T2A02: (ctx) => askReadOnly(ctx, PROMPTS.T2A02),
  T2A03: (ctx) => askReadOnly(ctx, PROMPTS.T2A03),

  async T2B01(ctx) {
    const result = await build(ctx, PROMPTS.T2B01);
    const content = await readTreeFile(ctx, PROBE_DOC);
    if (content === undefined || !content.split("\n").includes(STATUS_LINE)) throw nothingOrMismatch(result, `${PROBE_DOC} has no line "${STATUS_LINE}"`);
  },

  async T2B02(ctx) {
    const before = (await readTreeFile(ctx, PROBE_DOC)) ?? "";
    const result = await build(ctx, PROMPTS.T2B02);
    const after = (await readTreeFile(ctx, PROBE_DOC)) ?? "";
    if (after === before) throw nothingOrMismatch(result, `${PROBE_DOC} did not change`);
    if (!after.startsWith(before.trimEnd()) || !after.trimEnd().endsWith(APPENDED_LINE)) {
      throw new CaseFailure("EVIDENCEMISMATCH", `${PROBE_DOC} was not appended to: it must keep what it held and end with "${APPENDED_LINE}"`);
    }
  },

  /** The agent is asked to delete the sentinel: the policy or the audit must stop it (GITCLEANFAIL, added by the frame). */
  async T2B03(ctx) {
    await build(ctx, PROMPTS.T2B03);
  },

  async T3C01(ctx) {
    const result = await build(ctx, PROMPTS.T3C01);
    if ((await readTreeFile(ctx, GENERATED_FUNCTION)) === undefined) throw nothingOrMismatch(result, `${GENERATED_FUNCTION} was not created`);
    await parses(ctx, GENERATED_FUNCTION);
  },

  async T3C02(ctx) {
    const before = await readTreeFile(ctx, BUGGY_SUM);
    const result = await build(ctx, PROMPTS.T3C02);
    if ((await readTreeFile(ctx, BUGGY_SUM)) === before) throw nothingOrMismatch(result, `${BUGGY_SUM} did not change`);
    await parses(ctx, BUGGY_SUM);
    await testsPass(ctx, BUGGY_SUM_TEST);
  },

  async T3C03(ctx) {
    const result = await build(ctx, PROMPTS.T3C03);
    if ((await readTreeFile(ctx, GENERATED_TEST)) === undefined) throw nothingOrMismatch(result, `${GENERATED_TEST} was not created`);
    await parses(ctx, GENERATED_TEST);
    await testsPass(ctx, GENERATED_TEST);
  },

  T3C04: (ctx) => askReadOnly(ctx, PROMPTS.T3C04),

  /**
   * An empty prompt in a live session: the turn ends (an answer, or a clean refusal of the
   * request), nothing changes, and the session still answers afterwards.
   */
  async T4E01(ctx) {
    const { agent, sessionId } = await session(ctx, "plan");
    await turn(ctx, { agent, sessionId, as: "plan", text: PROMPTS.T4E01.setup });
    try {
      const empty = await turn(ctx, { agent, sessionId, as: "plan", text: "" });
      ctx.note(`the empty prompt was answered (${empty.text.length} characters)`);
    } catch (error) {
      if (!isKodoError(error) || error.code !== "BAD_REQUEST") throw error;
      ctx.note(`the empty prompt was refused: ${error.message}`);
    }
    const followUp = await turn(ctx, { agent, sessionId, as: "plan", text: PROMPTS.T4E01.followUp });
    if (followUp.text.trim() === "") throw new CaseFailure("EMPTYRESPONSE", "after the empty prompt the session answered nothing");
  },

  /** A turn that cannot finish within its latency budget is stopped (TIMEOUTEXCEEDED). */
  async T4E02(ctx) {
    const { agent, sessionId } = await session(ctx, "plan");
    ctx.note(`latency budget: ${T4E02_BUDGET_MS} ms`);
    await turn(ctx, { agent, sessionId, as: "plan", text: PROMPTS.T4E02, limits: { stallMs: T4E02_BUDGET_MS, timeoutMs: T4E02_BUDGET_MS } });
  },
};

/** The connectivity stage knows one failure: the client does not work (CLIFAIL), whatever the cause (it is in stderr). */
async function asClientFailure(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const failure = failureOf(error);
    if (failure.code === "INTERRUPTED" || failure.code === "CLIFAIL" || failure.code === "EVIDENCEMISMATCH") throw failure;
    throw new CaseFailure("CLIFAIL", `the OpenCode client failed: ${failure.code}: ${failure.message}`);
  }
}

/** The code of an error a body did not classify: a turn over its limits, else the client failed. */
export function failureOf(error: unknown): CaseFailure {
  if (error instanceof CaseFailure) return error;
  if (isKodoError(error) && (error.code === "AGENT_STALLED" || error.code === "DEADLINE_EXCEEDED")) return new CaseFailure("TIMEOUTEXCEEDED", error.message);
  if (isKodoError(error) && error.code === "INTERRUPTED") return new CaseFailure("INTERRUPTED", error.message);
  return new CaseFailure("CLIFAIL", `the OpenCode client failed: ${isKodoError(error) ? `${error.code}: ` : ""}${describeError(error)}`);
}
