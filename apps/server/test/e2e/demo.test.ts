/** The README's main job: `kodo demo` runs a whole task offline and leaves nothing running. */
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CLI, makeHome } from "../support/kodo-process.js";
import { waitUntilGone } from "../support/processes.js";

const execFileAsync = promisify(execFile);

describe("kodo demo", () => {
  it("drives a task from plan through approval to Done, with tests passing in the worktree", async () => {
    const home = await makeHome("kodo-demo-");
    const { stdout } = await execFileAsync(process.execPath, [CLI, "demo", "--json"], {
      env: { ...process.env, KODO_HOME: home },
      timeout: 240_000,
    });
    const result = JSON.parse(stdout) as { ok: boolean; statuses: string[]; testsPassed: boolean; run: { status: string; review: { files: Array<{ path: string }> } } };
    expect(result.ok).toBe(true);
    expect(result.statuses).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);
    expect(result.testsPassed).toBe(true);
    expect(result.run.review.files.map((file) => file.path).sort()).toEqual(["src/slugify.js", "test/slugify.test.js"]);
    expect(await waitUntilGone(home, 15_000)).toEqual([]);
  }, 300_000);
});
