/**
 * The shell OpenCode's bash tool runs commands with (`shell` in its config; it is invoked as
 * `<shell> -c <command>`). kodo points it at a small wrapper that drops the server's secrets from
 * the environment before exec'ing the real bash, so the agent's commands do not inherit them.
 *
 * Unsandboxed, that is defence in depth only: a process of the same uid can still read the
 * server's /proc/<pid>/environ. Under the agent sandbox the wrapper also starts each command in a
 * nested sandbox (sandbox/nested-sandbox.ts): its own user and pid namespaces close that, and
 * whatever the command leaves running dies with it.
 */
import fs from "node:fs";
import path from "node:path";

/** Variables the agent's commands must not see. The state marker stays: cleanup finds processes by it. */
export const SCRUBBED_ENV = ["OPENCODE_SERVER_PASSWORD", "OPENCODE_SERVER_USERNAME", "OPENCODE_CONFIG_CONTENT"] as const;

function findBash(): string | undefined {
  const candidates = ["/bin/bash", "/usr/bin/bash", ...(process.env["PATH"] ?? "").split(path.delimiter).map((dir) => path.join(dir, "bash"))];
  for (const candidate of candidates) {
    if (!path.isAbsolute(candidate)) continue;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** One word for sh: single-quoted, so nothing in it is expanded. */
function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Writes `<stateDir>/bin/bash` (named bash so OpenCode treats it as one) and returns its path;
 * undefined when no bash is installed (OpenCode then picks its default shell, unwrapped).
 * `nestedCommand`: argv prefix that starts a nested sandbox (ServiceSandbox.nestedCommand); the
 * real bash then runs inside it, and a command that cannot get one fails rather than run bare.
 */
export function writeAgentShell(stateDir: string, nestedCommand?: readonly string[]): string | undefined {
  const bash = findBash();
  if (bash === undefined) return undefined;
  const dir = path.join(stateDir, "bin");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "bash");
  const script = [
    "#!/bin/sh",
    "# written by kodo: the agent's commands must not inherit the OpenCode server's secrets",
    `unset ${SCRUBBED_ENV.join(" ")}`,
    ...(nestedCommand === undefined ? [] : ["# each command in its own nested sandbox: own user and pid namespaces, nothing outlives it"]),
    `exec ${[...(nestedCommand ?? []), bash].map(shellWord).join(" ")} "$@"`,
    "",
  ].join("\n");
  fs.writeFileSync(file, script, { mode: 0o700 });
  fs.chmodSync(file, 0o700);
  return file;
}
