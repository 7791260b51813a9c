import { describe, expect, it } from "vitest";
import { ALWAYS_ALLOWED_TOOLS, KNOWN_PERMISSIONS, buildPermissions, planPermissions, serverPermissionConfig, type PermissionRule } from "../../src/agent/permissions.js";

/** OpenCode's evaluation: the last rule matching permission and pattern wins ("*" is a wildcard). */
function decide(rules: PermissionRule[], permission: string, pattern = "src/x.ts"): string | undefined {
  const glob = (value: string, wildcard: string): boolean =>
    new RegExp(`^${wildcard.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);
  return rules.findLast((rule) => glob(permission, rule.permission) && glob(pattern, rule.pattern))?.action;
}

describe("permission rules", () => {
  it("name every permission OpenCode knows, and never ask", () => {
    for (const rules of [planPermissions(), buildPermissions()]) {
      for (const permission of KNOWN_PERMISSIONS) {
        expect(rules.some((rule) => rule.permission === permission && rule.pattern === "*")).toBe(true);
      }
      expect(rules[0]).toEqual({ permission: "*", pattern: "*", action: "deny" });
      expect(rules.some((rule) => rule.action === "ask")).toBe(false);
    }
    const config = serverPermissionConfig();
    expect(Object.keys(config)[0]).toBe("*");
    for (const permission of KNOWN_PERMISSIONS) expect(config[permission]).toBe("deny");
    expect(Object.values(config).includes("ask")).toBe(false);
  });

  it("plan may only look", () => {
    const plan = planPermissions();
    for (const allowed of ["read", "glob", "grep", "list"]) expect(decide(plan, allowed)).toBe("allow");
    for (const denied of ["edit", "bash", "task", "webfetch", "websearch", "external_directory", "question", "doom_loop", "todowrite", "skill", "mcp_anything"]) {
      expect(decide(plan, denied)).toBe("deny");
    }
  });

  it("build may also edit and run bash, never spawn sub-agents", () => {
    const build = buildPermissions();
    for (const allowed of ["read", "glob", "grep", "list", "edit", "bash"]) expect(decide(build, allowed)).toBe("allow");
    for (const denied of ["task", "webfetch", "external_directory", "question", "doom_loop"]) expect(decide(build, denied)).toBe("deny");
  });

  it("keep secrets unread and the reporting-only tools available", () => {
    for (const rules of [planPermissions(), buildPermissions()]) {
      expect(decide(rules, "read", "/repo/.env")).toBe("deny");
      expect(decide(rules, "read", "/repo/.env.production")).toBe("deny");
      expect(decide(rules, "read", "/repo/.env.example")).toBe("allow");
      for (const tool of ALWAYS_ALLOWED_TOOLS) expect(decide(rules, tool)).toBe("allow");
    }
  });
});
