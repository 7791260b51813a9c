import { afterAll, describe, expect, it } from "vitest";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ensureToken, loopbackHosts } from "../../src/http/auth.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-auth-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("the API token file", () => {
  it("is created once with 32 random bytes and mode 0600, then read back", async () => {
    const file = path.join(await tempDir(), "token");
    const token = await ensureToken(file);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await ensureToken(file)).toBe(token);
  });

  it("refuses a token file readable by others, and one that holds no token", async () => {
    const dir = await tempDir();
    const wide = path.join(dir, "wide");
    await writeFile(wide, `${"a".repeat(64)}\n`);
    await chmod(wide, 0o644);
    await expect(ensureToken(wide)).rejects.toMatchObject({ code: "CONFIG_INVALID", message: expect.stringContaining("chmod 600") });
    const junk = path.join(dir, "junk");
    await writeFile(junk, "hello\n", { mode: 0o600 });
    await expect(ensureToken(junk)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});

describe("the Host allowlist", () => {
  it("holds the loopback names with the port, plus configured names", () => {
    expect([...loopbackHosts(7433, ["kodo.internal", "box:8080"])]).toEqual([
      "127.0.0.1:7433",
      "localhost:7433",
      "[::1]:7433",
      "kodo.internal:7433",
      "box:8080",
    ]);
  });
});
