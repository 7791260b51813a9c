/**
 * Policy files: valid JSON and YAML load; every invalid one is POLICY_INVALID with the exact
 * `file:line:col: field: message` of the offending field.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KodoError } from "../../src/lib/errors.js";
import { loadPolicy, parsePolicy, type PolicyFormat } from "../../src/policy/index.js";

function problem(text: string, format: PolicyFormat): string {
  try {
    parsePolicy(text, { file: `p.${format}`, format });
  } catch (error) {
    expect(error).toBeInstanceOf(KodoError);
    expect((error as KodoError).code).toBe("POLICY_INVALID");
    return (error as KodoError).message;
  }
  throw new Error("expected POLICY_INVALID");
}

const lines = (...rows: string[]): string => `${rows.join("\n")}\n`;

describe("JSON policies", () => {
  it("loads a valid policy", () => {
    const policy = parsePolicy(lines(`{"version": 1, "rules": [{"id": "a", "tool": "*", "action": "run", "effect": "deny", "code": "DENIED_BY_RULE"}]}`), { file: "p.json", format: "json" });
    expect(policy.rules[0]).toMatchObject({ id: "a", effect: "deny" });
  });

  it("points at a bad value", () => {
    const text = lines(
      "{",
      '  "version": 1,',
      '  "rules": [',
      '    { "id": "a", "tool": "x", "action": "y", "effect": "allow" },',
      '    { "id": "b", "tool": "x", "action": "y", "effect": "allow" },',
      '    { "id": "c", "tool": "x", "action": "y",',
      '      "effect": "permit" }',
      "  ]",
      "}",
    );
    expect(problem(text, "json")).toMatch(/^p\.json:7:17: rules\[2\]\.effect: /);
  });

  it("points at an unknown key itself, and at the enclosing object for a missing one", () => {
    expect(problem(lines("{", '  "version": 1,', '  "rules": [],', '  "rulez": []', "}"), "json")).toBe('p.json:4:3: rulez: unknown field "rulez"');
    expect(problem(lines('{"version": 1, "rules": [', '  {"id": "a", "tool": "x", "effect": "deny"}', "]}"), "json")).toMatch(/^p\.json:2:3: rules\[0\]\.action: /);
  });

  it("reports nested conditions, bad regexes, wrong codes and duplicate ids where they are", () => {
    const text = lines(
      '{"version": 1, "rules": [',
      '  {"id": "a", "tool": "bash", "action": "run", "effect": "deny",',
      '   "when": [{"arg": "command", "regex": "git ("}]}',
      "]}",
    );
    expect(problem(text, "json")).toMatch(/^p\.json:3:41: rules\[0\]\.when\[0\]\.regex: not a valid regular expression/);
    expect(problem(lines('{"version": 1, "rules": [{"id": "a", "tool": "x", "action": "y", "effect": "allow", "code": "DENIED_BY_RULE"}]}'), "json")).toMatch(
      /^p\.json:1:93: rules\[0\]\.code: an allow rule's code can only be ALLOWED/,
    );
    expect(problem(lines('{"version": 1, "rules": [{"id": "a", "tool": "x", "action": "y", "effect": "allow", "code": "NOPE"}]}'), "json")).toMatch(/^p\.json:1:93: rules\[0\]\.code: /);
    const dup = lines('{"version": 1, "rules": [', '  {"id": "a", "tool": "x", "action": "y", "effect": "allow"},', '  {"id": "a", "tool": "x", "action": "z", "effect": "allow"}', "]}");
    expect(problem(dup, "json")).toBe('p.json:3:10: rules[1].id: duplicate rule id "a" (first used by rules[0])');
    const two = lines('{"version": 1, "rules": [{"id": "a", "tool": "x", "action": "y", "effect": "allow", "when": [{"arg": "p", "glob": "*", "equals": "x"}]}]}');
    expect(problem(two, "json")).toMatch(/^p\.json:1:94: rules\[0\]\.when\[0\]: a condition needs exactly one of equals, glob, regex, within \(got equals, glob\)/);
  });

  it("reports syntax errors at the offending character, and counts further problems", () => {
    expect(problem(lines("{", '  "version": 1,', '  "rules": [}', "}"), "json")).toBe("p.json:3:13: (syntax): not valid JSON: expected a value, found \"}\"");
    expect(problem(lines("{", '  "version": 1,', '  "rules": []', '  "x": 1', "}"), "json")).toMatch(/^p\.json:4:3: \(syntax\): not valid JSON: expected "}"/);
    expect(problem("", "json")).toBe("p.json:1:1: (syntax): not valid JSON: expected a value, found end of input");
    expect(problem(lines('{"version": 2, "rules": 3}'), "json")).toMatch(/^p\.json:1:13: version: .* \(and 1 more problem\)$/);
  });
});

describe("YAML policies", () => {
  it("loads a valid policy", () => {
    const policy = parsePolicy(lines("version: 1", "extends: none", "rules:", "  - id: a", "    tool: tests", "    action: run", "    effect: ask"), { file: "p.yaml", format: "yaml" });
    expect(policy).toMatchObject({ extends: "none", rules: [{ id: "a", effect: "ask" }] });
  });

  it("points at a bad value, an unknown key and a missing field", () => {
    const text = lines("version: 1", "rules:", "  - id: a", "    tool: x", "    action: y", "    effect: allow", "  - id: b", "    tool: x", "    action: y", "    effect: permit");
    expect(problem(text, "yaml")).toMatch(/^p\.yaml:10:13: rules\[1\]\.effect: /);
    expect(problem(lines("version: 1", "rules: []", "colour: red"), "yaml")).toBe('p.yaml:3:1: colour: unknown field "colour"');
    expect(problem(lines("version: 1", "rules:", "  - id: a", "    tool: x", "    effect: deny"), "yaml")).toMatch(/^p\.yaml:3:5: rules\[0\]\.action: /);
    const nested = lines("version: 1", "rules:", "  - id: a", "    tool: x", "    action: y", "    effect: allow", "    when:", "      - arg: p", "        within: { roots: [$secret] }");
    expect(problem(nested, "yaml")).toMatch(/^p\.yaml:9:27: rules\[0\]\.when\[0\]\.within\.roots\[0\]: a root starting with "\$" must be one of/);
  });

  it("reports syntax errors and duplicate keys with their position", () => {
    expect(problem(lines("version: 1", "rules:", "  - id: a", "   tool: x"), "yaml")).toMatch(/^p\.yaml:4:\d+: \(syntax\): not valid YAML/);
    expect(problem(lines("version: 1", "rules: []", "version: 1"), "yaml")).toMatch(/^p\.yaml:3:1: \(syntax\): not valid YAML: Map keys must be unique/);
  });
});

describe("loadPolicy", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kodo-policy-load-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("chooses the format by extension and names the file in errors", async () => {
    writeFileSync(path.join(dir, "a.yml"), lines("version: 1", "rules: []"));
    writeFileSync(path.join(dir, "b.json"), lines('{"version": 1, "rules": [], "extends": "all"}'));
    expect(await loadPolicy(path.join(dir, "a.yml"))).toEqual({ version: 1, rules: [] });
    await expect(loadPolicy(path.join(dir, "b.json"))).rejects.toThrow(`${path.join(dir, "b.json")}:1:40: extends: `);
    await expect(loadPolicy(path.join(dir, "c.toml"))).rejects.toMatchObject({ code: "POLICY_INVALID", message: expect.stringContaining("must end in .json, .yaml or .yml") });
    await expect(loadPolicy(path.join(dir, "missing.json"))).rejects.toMatchObject({ code: "POLICY_INVALID", message: expect.stringContaining("(ENOENT)") });
  });
});
