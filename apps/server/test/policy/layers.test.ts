/** resolvePolicy: task rules, then repo rules, then the defaults; replacement by id; extends: none. */
import { describe, expect, it } from "vitest";
import { DEFAULT_RULES, evaluate, PolicySchema, resolvePolicy, type Policy } from "../../src/policy/index.js";

const policy = (value: unknown): Policy => PolicySchema.parse(value);
const ids = (rules: readonly { id: string; layer: string }[]): string[] => rules.map((rule) => `${rule.layer}:${rule.id}`);

describe("resolvePolicy", () => {
  it("is the defaults alone without policies", () => {
    expect(ids(resolvePolicy({}).rules)).toEqual(DEFAULT_RULES.map((rule) => `defaults:${rule.id}`));
  });

  it("orders task rules before repo rules before the defaults", async () => {
    const repoPolicy = policy({ version: 1, rules: [{ id: "repo-deny", tool: "bash", action: "run", effect: "deny", code: "PERMISSION_DENIED" }] });
    const taskPolicy = policy({ version: 1, rules: [{ id: "task-deny", tool: "bash", action: "run", effect: "deny", code: "MISSION_TIMEOUT" }] });
    const resolved = resolvePolicy({ repoPolicy, taskPolicy });
    expect(ids(resolved.rules).slice(0, 3)).toEqual(["task:task-deny", "repo:repo-deny", "defaults:tests-run-in-roots"]);
    // Both deny: the first in evaluation order (the task's) gives the code.
    const decision = await evaluate(resolved, { tool: "bash", action: "run", args: { command: "git reset --hard" } });
    expect(decision).toMatchObject({ code: "MISSION_TIMEOUT", matchedRules: ["task-deny", "repo-deny", "git-reset-hard", "bash-allowlisted"] });
  });

  it("cannot loosen a lower deny with an allow, but can replace the rule by its id", async () => {
    const request = { tool: "webfetch", action: "get", args: { url: "https://example.com" } };
    const allowAll = policy({ version: 1, rules: [{ id: "net", tool: "webfetch", action: "*", effect: "allow" }] });
    expect(await evaluate(resolvePolicy({ repoPolicy: allowAll }), request)).toMatchObject({ allowed: false, code: "NETWORK_DENIED", matchedRules: ["net", "webfetch-denied"] });
    const replace = policy({ version: 1, rules: [{ id: "webfetch-denied", tool: "webfetch", action: "*", effect: "allow", reason: "this repo needs the docs site" }] });
    const resolved = resolvePolicy({ repoPolicy: replace });
    expect(ids(resolved.rules).filter((id) => id.endsWith(":webfetch-denied"))).toEqual(["repo:webfetch-denied"]);
    expect(await evaluate(resolved, request)).toMatchObject({ allowed: true, matchedRules: ["webfetch-denied"] });
  });

  it("drops the lower layers with extends: none", () => {
    const repoPolicy = policy({ version: 1, rules: [{ id: "r", tool: "x", action: "y", effect: "allow" }] });
    const bareRepo = policy({ version: 1, extends: "none", rules: [{ id: "r", tool: "x", action: "y", effect: "allow" }] });
    const bareTask = policy({ version: 1, extends: "none", rules: [{ id: "t", tool: "x", action: "y", effect: "deny" }] });
    expect(ids(resolvePolicy({ repoPolicy: bareRepo }).rules)).toEqual(["repo:r"]);
    expect(ids(resolvePolicy({ repoPolicy, taskPolicy: bareTask }).rules)).toEqual(["task:t"]);
    const task = policy({ version: 1, rules: [{ id: "t", tool: "x", action: "y", effect: "deny" }] });
    expect(ids(resolvePolicy({ repoPolicy: bareRepo, taskPolicy: task }).rules)).toEqual(["task:t", "repo:r"]);
  });
});
