import { describe, expect, it } from "vitest";
import { CliError, ExitCode, exitCodeForCode, exitCodeForStatus, toCliError } from "../src/errors.js";

describe("exit codes", () => {
  it.each([
    [404, 3],
    [400, 4],
    [409, 4],
    [422, 4],
    [500, 1],
    [401, 1],
    [502, 5],
    [503, 5],
    [504, 5],
  ])("HTTP %i → exit %i", (status, exitCode) => {
    expect(exitCodeForStatus(status)).toBe(exitCode);
  });

  it.each([
    ["USAGE", 2],
    ["NOT_FOUND", 3],
    ["RUN_NOT_WAITING", 4],
    ["SCRIPT_INVALID", 4],
    ["CONFIG_INVALID", 4],
    ["SERVER_NOT_RUNNING", 5],
    ["HTTP_TIMEOUT", 5],
    ["DB_UNAVAILABLE", 5],
    ["EADDRINUSE", 5],
    ["AGENT_FAILED", 1],
    ["INTERRUPTED", 130],
  ])("code %s → exit %i", (code, exitCode) => {
    expect(exitCodeForCode(code)).toBe(exitCode);
  });

  it("keeps the code and details of errors thrown by the server library", () => {
    const thrown = Object.assign(new Error("script.json: rules[0].name: Required"), { code: "SCRIPT_INVALID", details: { issues: [] } });
    const error = toCliError(thrown);
    expect([error.code, error.exitCode, error.message]).toEqual(["SCRIPT_INVALID", 4, "script.json: rules[0].name: Required"]);
    expect(error.toJSON()).toEqual({ code: "SCRIPT_INVALID", message: "script.json: rules[0].name: Required", details: { issues: [] } });
  });

  it("calls anything else INTERNAL, exit 1, and passes CliErrors through", () => {
    expect(toCliError(new TypeError("boom"))).toMatchObject({ code: "INTERNAL", exitCode: 1, message: "boom" });
    expect(toCliError("text")).toMatchObject({ code: "INTERNAL", exitCode: 1, message: "text" });
    const own = new CliError("NO_RUN", "none", ExitCode.conflict);
    expect(toCliError(own)).toBe(own);
  });
});
