/** The command line itself: the flags that close the known holes, and mounts ordered parents-first. */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseFlags, buildBwrapArgs } from "../../src/sandbox/bwrap-args.js";
import { planSandbox } from "../../src/sandbox/sandbox-plan.js";
import { baseSpec, removeTempDirs, tempDir } from "./helpers.js";

afterAll(() => removeTempDirs());

function flagsOf(args: string[]): string {
  return args.slice(0, args.indexOf("--")).join(" ");
}

describe("bwrap arguments", () => {
  const root = tempDir("args");
  const home = path.join(root, "home");
  const worktree = path.join(home, "worktrees", "t1");
  fs.mkdirSync(worktree, { recursive: true });
  fs.writeFileSync(path.join(worktree, "opencode.json"), "{}");
  fs.writeFileSync(path.join(root, "token"), "t");

  it("always drops root, isolates pids, and hides /tmp, /run and the host's sysctls", () => {
    const flags = flagsOf(buildBwrapArgs(planSandbox(baseSpec(worktree))));
    expect(flags).toContain("--unshare-user --uid 1000 --gid 1000 --cap-drop ALL --disable-userns");
    expect(flags).toContain("--unshare-pid --die-with-parent --new-session");
    expect(flags).toContain("--unshare-ipc --unshare-uts --unshare-net");
    expect(flags).toContain("--ro-bind / / --dev /dev --proc /proc --ro-bind /proc/sys /proc/sys");
    expect(flags).toContain("--tmpfs /tmp --tmpfs /run");
    expect(flags).toContain("--clearenv");
    expect(flagsOf(buildBwrapArgs(planSandbox(baseSpec(worktree, { network: true }))))).not.toContain("--unshare-net");
  });

  it("a sandbox that nests sandboxes keeps user namespaces, and /proc/sys/user for the nested bwrap's --disable-userns", () => {
    const flags = baseFlags(true, { nesting: true }).join(" ");
    expect(flags).toContain("--unshare-user --uid 1000 --gid 1000 --cap-drop ALL --unshare-pid");
    expect(flags).not.toContain("--disable-userns");
    expect(flags).toContain("--ro-bind /proc/sys /proc/sys --bind /proc/sys/user /proc/sys/user");
    expect(baseFlags(true).join(" ")).not.toContain("/proc/sys/user");
  });

  it("orders mounts parents first: mask of kodo's home, then the worktree in it, then read-only files in that", () => {
    const plan = planSandbox(baseSpec(worktree, { readOnly: [path.join(worktree, "opencode.json")], masked: [path.join(root, "token"), home] }));
    expect(plan.mounts.map((mount) => `${mount.kind} ${path.relative(root, mount.path)}`)).toEqual([
      "mask-file token",
      "mask-dir home",
      "writable home/worktrees/t1",
      "read-only home/worktrees/t1/opencode.json",
    ]);
    const args = buildBwrapArgs(plan);
    expect(args.join(" ")).toContain(`--ro-bind /dev/null ${path.join(root, "token")}`);
    expect(args.join(" ")).toContain(`--tmpfs ${home} --bind ${worktree} ${worktree} --ro-bind ${worktree}/opencode.json`);
    expect(args.slice(args.indexOf("--"))).toEqual(["--", "true"]);
  });

  it("binds and masks a symlinked path at its target", () => {
    const link = path.join(root, "link-to-token");
    fs.symlinkSync(path.join(root, "token"), link);
    expect(planSandbox(baseSpec(worktree, { masked: [link] })).mounts[0]).toEqual({ kind: "mask-file", path: fs.realpathSync(path.join(root, "token")) });
  });
});
