/** KODO_ASK_PERMISSIONS and KODO_APPROVAL_TIMEOUT_SECONDS, and how asking a person changes session rules. */
import { describe, expect, it } from "vitest";
import { askInsteadOfAllow } from "../../src/agent/ask-rules.js";
import { buildPermissions, planPermissions } from "../../src/agent/permissions.js";
import { loadConfig } from "../../src/config.js";

describe("asking a person for some permissions", () => {
  it("turns the allows of those permissions into asks and leaves every deny alone", () => {
    const build = askInsteadOfAllow(buildPermissions(), ["bash", "webfetch"]);
    expect(build.filter((rule) => rule.permission === "bash")).toEqual([{ permission: "bash", pattern: "*", action: "ask" }]);
    // webfetch is denied to the build agent: asking a person never widens what it may do
    expect(build.filter((rule) => rule.permission === "webfetch")).toEqual([{ permission: "webfetch", pattern: "*", action: "deny" }]);
    expect(build.filter((rule) => rule.permission !== "bash")).toEqual(buildPermissions().filter((rule) => rule.permission !== "bash"));
    expect(askInsteadOfAllow(planPermissions(), ["bash"])).toEqual(planPermissions());
    expect(askInsteadOfAllow(buildPermissions(), [])).toEqual(buildPermissions());
  });

  it("reads the settings from the environment, refusing unknown permissions and bad timeouts", () => {
    const defaults = loadConfig({ KODO_HOME: "/tmp/kodo-config-test" });
    expect(defaults.approvalTimeoutSeconds).toBe(900);
    expect(defaults.askPermissions).toEqual([]);
    const set = loadConfig({ KODO_HOME: "/tmp/kodo-config-test", KODO_ASK_PERMISSIONS: " bash, edit ,bash", KODO_APPROVAL_TIMEOUT_SECONDS: "30" });
    expect(set.askPermissions).toEqual(["bash", "edit"]);
    expect(set.approvalTimeoutSeconds).toBe(30);
    expect(() => loadConfig({ KODO_HOME: "/tmp/kodo-config-test", KODO_ASK_PERMISSIONS: "bash,rm" })).toThrow(/KODO_ASK_PERMISSIONS names unknown OpenCode permissions \(rm\)/);
    expect(() => loadConfig({ KODO_HOME: "/tmp/kodo-config-test", KODO_APPROVAL_TIMEOUT_SECONDS: "0" })).toThrow(/KODO_APPROVAL_TIMEOUT_SECONDS must be a positive number/);
  });
});
