/**
 * The sandbox port: run one command confined by bubblewrap and leave no process behind.
 * Other modules (verify/, agent/) depend on exactly these shapes.
 */

export interface SandboxSpec {
  /** argv, no shell */
  command: string[];
  /** must be inside one of `writable` */
  cwd: string;
  /** bound read-write (e.g. the worktree) */
  writable: string[];
  /** bound read-only on top of everything else (e.g. `opencode.json` or the `.git` pointer inside a worktree) */
  readOnly?: string[];
  /** hidden: files become an empty read-only file, directories an empty tmpfs (kodo's home, token files, secrets) */
  masked?: string[];
  /** false: a private network namespace (loopback works inside; nothing outside is reachable) */
  network: boolean;
  /** the whole environment inside, plus PATH and HOME defaults when absent, and PWD (always the cwd: bwrap sets it) */
  env: Record<string, string>;
  /** then SIGTERM, then SIGKILL after `graceMs` */
  timeoutMs: number;
  /** default 2000 */
  graceMs?: number;
  /** per stream kept in the result (head + tail around a visible marker); default 50 KiB */
  maxOutputBytes?: number;
  /** when set, the full stdout/stderr are written there (stdout.log, stderr.log) with their sha256 */
  fullOutputDir?: string;
  /** user opt-out: when bubblewrap is missing or broken, run unconfined with process-group cleanup */
  allowUnsandboxed?: boolean;
}

export interface CapturedOutput {
  text: string;
  truncated: boolean;
  totalBytes: number;
  file?: { path: string; sha256: string };
}

export type CleanupMethod = "pid-namespace" | "process-group";

export interface SandboxResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** false only in the opt-out fallback */
  sandboxed: boolean;
  /** `survivors`: processes left after the end (should be []) */
  cleanup: { method: CleanupMethod; survivors: number[] };
  notes: string[];
}

export interface SandboxProbe {
  available: boolean;
  version?: string;
  reason?: string;
}

export const DEFAULT_GRACE_MS = 2_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 50 * 1024;
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Inside the sandbox /tmp is a private tmpfs, so a default HOME there is writable and thrown away. */
export const DEFAULT_HOME = "/tmp";
