/**
 * Confinement, with the real bubblewrap: writes land only in the writable paths, masks hide,
 * /tmp is private, capabilities and host sysctls are out of reach, the network is off when
 * asked (loopback still works inside), and the environment is exactly what was given.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKodoError } from "../../src/lib/errors.js";
import { probeSandbox, runSandboxed, type SandboxResult } from "../../src/sandbox/index.js";
import { baseSpec, endLeftovers, removeTempDirs, tempDir } from "./helpers.js";

let root: string;
let worktree: string;

async function sh(script: string, overrides: Parameters<typeof baseSpec>[1] = {}): Promise<SandboxResult> {
  return runSandboxed(baseSpec(worktree, { command: ["/bin/sh", "-c", script], ...overrides }));
}

beforeAll(async () => {
  const probe = await probeSandbox();
  expect(probe, "bubblewrap must work on this machine (apt-get install -y bubblewrap)").toMatchObject({ available: true });
  root = tempDir("confine");
  worktree = path.join(root, "worktree");
  fs.mkdirSync(worktree);
  fs.mkdirSync(path.join(root, "sibling"));
});

afterAll(() => {
  const left = endLeftovers();
  removeTempDirs();
  expect(left).toEqual([]);
});

describe("confinement", () => {
  it("reports bubblewrap's version", async () => {
    expect((await probeSandbox()).version).toMatch(/^\d+\.\d+/);
  });

  it("lets writes land in the writable path, owned on the host by kodo's own uid", async () => {
    const result = await sh("id -u; echo hello > made-inside.txt && mkdir -p sub && echo deep > sub/file");
    expect(result).toMatchObject({ exitCode: 0, sandboxed: true, timedOut: false });
    expect(result.stdout.text.trim()).toBe("1000");
    expect(fs.readFileSync(path.join(worktree, "made-inside.txt"), "utf8")).toBe("hello\n");
    for (const made of ["made-inside.txt", "sub", "sub/file"]) {
      const stat = fs.statSync(path.join(worktree, made));
      expect([stat.uid, stat.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
    }
    fs.appendFileSync(path.join(worktree, "sub/file"), "kodo can still write\n");
  });

  it.each([
    ["/etc", "/etc/kodo-sandbox-probe"],
    ["/usr", "/usr/kodo-sandbox-probe"],
    ["a sibling of the worktree", "SIBLING/escape"],
    ["the worktree's parent", "PARENT/escape"],
  ])("refuses writes to %s (read-only file system)", async (_what, target) => {
    const file = target.replace("SIBLING", path.join(root, "sibling")).replace("PARENT", root);
    const result = await sh(`echo x > '${file}'`);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.text).toContain("Read-only file system");
    expect(fs.existsSync(file)).toBe(false);
  });

  it("cannot escape through a symlink or a hard link in the worktree", async () => {
    const outside = path.join(root, "outside.txt");
    fs.writeFileSync(outside, "original\n");
    fs.symlinkSync(outside, path.join(worktree, "link-out"));
    const result = await sh("echo changed > link-out; ln ../outside.txt hard 2>&1; ln /etc/hostname hard2 2>&1; exit 0");
    expect(result.stderr.text).toContain("Read-only file system");
    expect(fs.readFileSync(outside, "utf8")).toBe("original\n");
    expect(fs.existsSync(path.join(worktree, "hard"))).toBe(false);
    expect(fs.existsSync(path.join(worktree, "hard2"))).toBe(false);
  });

  it("keeps read-only paths inside the worktree read-only", async () => {
    const config = path.join(worktree, "opencode.json");
    fs.writeFileSync(config, '{"permission":"ask"}\n');
    const result = await sh(`echo '{"permission":"allow"}' > opencode.json; rm -f opencode.json; echo ok > other.txt`, { readOnly: [config] });
    expect(result.stderr.text).toContain("Read-only file system");
    expect(fs.readFileSync(config, "utf8")).toBe('{"permission":"ask"}\n');
    expect(fs.readFileSync(path.join(worktree, "other.txt"), "utf8")).toBe("ok\n");
  });

  it("masks files (empty) and directories (empty), including a root-owned 0600 secret", async () => {
    const secrets = path.join(root, "kodo-home");
    fs.mkdirSync(secrets);
    fs.writeFileSync(path.join(secrets, "state.json"), "private state\n");
    const token = path.join(root, "api-token");
    fs.writeFileSync(token, "s3cr3t-token\n", { mode: 0o600 });
    const unmasked = await sh(`cat '${token}'`);
    expect(unmasked.stdout.text, "the secrets trap: without a mask the sandbox uid can read kodo's 0600 files").toBe("s3cr3t-token\n");

    const result = await sh(`echo "token=[$(cat '${token}')]"; ls -A '${secrets}' | wc -l; cat '${secrets}/state.json' 2>&1; exit 0`, { masked: [token, secrets, path.join(root, "absent")] });
    expect(result.stdout.text).toContain("token=[]");
    expect(result.stdout.text).toMatch(/^0$/m);
    expect(result.stdout.text).toContain("No such file or directory");
    expect(result.notes.join("\n")).toContain("does not exist: nothing to hide");
    expect(fs.readFileSync(token, "utf8")).toBe("s3cr3t-token\n");
  });

  it("masks a directory that contains the worktree, keeping the worktree itself reachable", async () => {
    const home = path.join(root, "home-with-worktrees");
    const nested = path.join(home, "worktrees", "task-1");
    fs.mkdirSync(nested, { recursive: true });
    fs.writeFileSync(path.join(home, "secret.db"), "rows\n");
    const result = await runSandboxed(baseSpec(nested, { command: ["/bin/sh", "-c", `echo hi > f; ls -A '${home}'`], masked: [home] }));
    expect(result.exitCode).toBe(0);
    expect(result.stdout.text.trim()).toBe("worktrees");
    expect(fs.readFileSync(path.join(nested, "f"), "utf8")).toBe("hi\n");
  });

  it("gives a private /tmp: the host's files are invisible, writes stay inside", async () => {
    const hostFile = `/tmp/kodo-sandbox-host-${process.pid}-${Date.now()}`;
    fs.writeFileSync(hostFile, "host\n");
    try {
      const result = await sh(`test -e '${hostFile}' && echo visible || echo hidden; echo inside > /tmp/inside-${process.pid}; ls -A /tmp /run`);
      expect(result.stdout.text).toContain("hidden");
      expect(fs.existsSync(`/tmp/inside-${process.pid}`)).toBe(false);
    } finally {
      fs.rmSync(hostFile, { force: true });
    }
  });

  it("runs a worktree that lives under /tmp (bound over the private tmpfs)", async () => {
    const underTmp = fs.mkdtempSync("/tmp/kodo-sandbox-wt-");
    try {
      const result = await runSandboxed(baseSpec(underTmp, { command: ["/bin/sh", "-c", "echo ok > f && pwd"] }));
      expect(result.stdout.text.trim()).toBe(fs.realpathSync(underTmp));
      expect(fs.readFileSync(path.join(underTmp, "f"), "utf8")).toBe("ok\n");
    } finally {
      fs.rmSync(underTmp, { recursive: true, force: true });
    }
  });

  it("drops every capability: no mount, no new user namespace, no host sysctl", async () => {
    const swappiness = fs.readFileSync("/proc/sys/vm/swappiness", "utf8").trim();
    // writing the value it already has: harmless even if the protection failed
    const result = await sh(
      `grep CapEff /proc/self/status; mkdir -p m; mount -t tmpfs none m 2>&1; echo mount=$?; unshare -U true 2>&1; echo unshare=$?; ` +
        `echo ${swappiness} > /proc/sys/vm/swappiness; echo sysctl=$?; echo kodo > /proc/sys/kernel/hostname; echo hostname=$?`,
    );
    expect(result.stdout.text).toMatch(/CapEff:\s+0000000000000000/);
    expect(result.stdout.text).toMatch(/mount=(?!0)\d+/);
    expect(result.stdout.text).toMatch(/unshare=(?!0)\d+/);
    expect(result.stdout.text).toMatch(/sysctl=(?!0)\d+/);
    expect(result.stdout.text).toMatch(/hostname=(?!0)\d+/);
    expect(result.stderr.text).toContain("Read-only file system");
  });

  describe("network", () => {
    let host: net.Server;
    let port: number;
    const script = `
      const net = require("node:net");
      const reach = (port) => new Promise((done) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("connect", () => { socket.destroy(); done("connected"); });
        socket.on("error", (error) => done(error.code));
      });
      const server = net.createServer((c) => c.end()).listen(0, "127.0.0.1", async () => {
        const inside = await reach(server.address().port);
        const host = await reach(Number(process.argv[1]));
        console.log(JSON.stringify({ inside, host }));
        server.close();
      });`;

    beforeAll(async () => {
      host = net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
      port = (host.address() as net.AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise((resolve) => host.close(resolve));
    });

    it("off: the host's 127.0.0.1 is unreachable, loopback inside works", async () => {
      const result = await runSandboxed(baseSpec(worktree, { command: [process.execPath, "-e", script, String(port)], network: false }));
      expect(JSON.parse(result.stdout.text)).toEqual({ inside: "connected", host: "ECONNREFUSED" });
    });

    it("on: the host's 127.0.0.1 is reachable", async () => {
      const result = await runSandboxed(baseSpec(worktree, { command: [process.execPath, "-e", script, String(port)], network: true }));
      expect(JSON.parse(result.stdout.text)).toEqual({ inside: "connected", host: "connected" });
    });
  });

  it("gives exactly the environment asked for, plus PATH and HOME defaults and PWD", async () => {
    const result = await runSandboxed(baseSpec(worktree, { command: ["/usr/bin/env"], env: { FOO: "bar baz", EMPTY: "" } }));
    const defaults = ["HOME=/tmp", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `PWD=${worktree}`];
    expect(result.stdout.text.trim().split("\n").sort()).toEqual(["EMPTY=", "FOO=bar baz", ...defaults]);
    const given = await runSandboxed(baseSpec(worktree, { command: ["/usr/bin/env"], env: { PATH: "/usr/bin", HOME: worktree } }));
    expect(given.stdout.text.trim().split("\n").sort()).toEqual([`HOME=${worktree}`, "PATH=/usr/bin", `PWD=${worktree}`]);
  });

  it("reports the exit code, and a signal death as bubblewrap's 128 + n", async () => {
    expect((await sh("exit 7")).exitCode).toBe(7);
    const killed = await sh("kill -SEGV $$");
    expect(killed.exitCode).toBe(139);
    expect(killed.notes.join("\n")).toContain("SIGSEGV");
    const missing = await runSandboxed(baseSpec(worktree, { command: ["no-such-command-kodo"] }));
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr.text).toContain("no-such-command-kodo");
  });

  it("rejects a spec whose cwd is outside the writable paths, before running anything", async () => {
    const error: unknown = await runSandboxed(baseSpec(worktree, { cwd: root })).catch((caught: unknown) => caught);
    expect(isKodoError(error) && error.code).toBe("SANDBOX_SPEC_INVALID");
    const relative: unknown = await runSandboxed(baseSpec(worktree, { writable: ["relative/path"] })).catch((caught: unknown) => caught);
    expect(isKodoError(relative) && relative.code).toBe("SANDBOX_SPEC_INVALID");
  });
});
