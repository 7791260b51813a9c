import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../src/errors.js";
import { resolveServer } from "../src/server-url.js";

describe("resolveServer", () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-home-"));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const reject = async (promise: Promise<unknown>): Promise<CliError> => {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  };

  it("takes --url first, then KODO_URL, then $KODO_HOME/server.json", async () => {
    await writeFile(path.join(home, "server.json"), JSON.stringify({ url: "http://127.0.0.1:7001/", pid: process.pid }));
    const env = { KODO_HOME: home, KODO_URL: "http://127.0.0.1:7002" };
    expect(await resolveServer("http://127.0.0.1:7003/", env)).toEqual({ url: "http://127.0.0.1:7003", source: "--url" });
    expect(await resolveServer(undefined, env)).toEqual({ url: "http://127.0.0.1:7002", source: "KODO_URL" });
    expect(await resolveServer(undefined, { KODO_HOME: home })).toEqual({ url: "http://127.0.0.1:7001", source: path.join(home, "server.json") });
  });

  it("says SERVER_NOT_RUNNING when there is no server file, or its process is gone", async () => {
    const missing = await reject(resolveServer(undefined, { KODO_HOME: home }));
    expect([missing.code, missing.exitCode]).toEqual(["SERVER_NOT_RUNNING", 5]);
    expect(missing.message).toContain("kodo serve");

    // a pid that cannot be alive: above the kernel's pid_max
    await writeFile(path.join(home, "server.json"), JSON.stringify({ url: "http://127.0.0.1:7001", pid: 2 ** 22 + 1 }));
    const stale = await reject(resolveServer(undefined, { KODO_HOME: home }));
    expect(stale.code).toBe("SERVER_NOT_RUNNING");
    expect(stale.message).toContain("stale");
  });

  it("treats a malformed URL as a usage error", async () => {
    const error = await reject(resolveServer("not a url", {}));
    expect([error.code, error.exitCode]).toEqual(["USAGE", 2]);
    const ftp = await reject(resolveServer(undefined, { KODO_URL: "ftp://example.com" }));
    expect(ftp.exitCode).toBe(2);
  });
});
