/**
 * The built-in rules, in force unless a policy says `extends: "none"`. Pattern rules on shell
 * commands are a first line only: a command can always be spelled so that no regex sees it
 * (variables, aliases, scripts). The guarantee is the sandbox (bubblewrap) and the worktree
 * audit after the run; these rules stop the obvious cases early, with a clear code.
 */
import type { Rule } from "./schema.js";

/**
 * `git`, its global options (`-C dir`, `-c k=v`, `--git-dir=…`, `--no-pager`) and then the
 * subcommand: `git -C repo clean -fd`, `sh -c "git clean -fd"`, `cd x && git clean -f` all match;
 * `git log --grep clean` does not.
 */
const git = (rest: string): string => `\\bgit(?:\\s+(?:-[Cc]\\s+\\S+|--?[A-Za-z][\\w-]*(?:=\\S+)?))*\\s+${rest}`;
/** anything up to the end of the same simple command */
const same = "[^;&|\\n]*";

/**
 * Programs the build agent may run by default: looking, building and testing. No deletion (`rm`,
 * `mv`), no network tools, no shell tricks: each command of a `&&`/`||`/`|` chain must start with
 * one of these and hold no `;`, `&`, backquote, `$`, `<` or `>` (except `2>&1`). Destructive git is
 * denied by the rules above it (deny beats allow).
 */
export const BASH_ALLOWLIST = [
  "cd", "ls", "cat", "head", "tail", "wc", "grep", "rg", "echo", "printf", "pwd", "diff", "sort", "uniq", "cut", "tr",
  "sed", "file", "stat", "which", "true", "false", "test", "mkdir", "touch", "cp", "tree",
  "python", "python3", "pytest", "pip", "node", "npm", "npx", "pnpm", "yarn", "tsc", "vitest", "jest", "eslint", "prettier",
  "go", "gofmt", "cargo", "rustc", "make", "git",
] as const;
const simpleCommand = `(?:${BASH_ALLOWLIST.join("|")})(?=\\s|$)(?:[^;&|\`$<>\\n]|2>&1)*`;
const BASH_ALLOWED = `^\\s*${simpleCommand}(?:(?:&&|\\|\\|?)\\s*${simpleCommand})*$`;

export const DEFAULT_RULES: readonly Rule[] = [
  {
    id: "tests-run-in-roots",
    tool: "tests",
    action: "run",
    requires: ["target"],
    when: [{ arg: "target", within: { roots: ["$testRoots"] } }],
    effect: "allow",
    reason: "a test target inside the repository's test roots",
  },
  {
    id: "git-clean",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: git("clean\\b") }],
    effect: "deny",
    code: "GITCLEANFAIL",
    reason: "git clean deletes untracked files",
  },
  {
    id: "git-reset-hard",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: git(`reset\\b${same}\\s--hard\\b`) }],
    effect: "deny",
    code: "DESTRUCTIVE_GIT",
    reason: "git reset --hard discards changes",
  },
  {
    id: "git-discard-worktree",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: git(`(?:checkout|restore)\\b${same}(?:\\s--(?=\\s|$|["'])|\\s\\.(?=\\s|$|["'/])|\\s-f\\b|\\s--force\\b)`) }],
    effect: "deny",
    code: "DESTRUCTIVE_GIT",
    reason: "git checkout/restore of paths discards changes",
  },
  {
    id: "git-push-force",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: git(`push\\b${same}(?:\\s--force(?:-with-lease|-if-includes)?\\b|\\s-[A-Za-z]*[fd]\\b|\\s--delete\\b|\\s\\+[^\\s]|\\s:[^\\s])`) }],
    effect: "deny",
    code: "DESTRUCTIVE_GIT",
    reason: "a forced push or a remote branch deletion rewrites shared history",
  },
  {
    id: "git-branch-delete",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: git(`branch\\b${same}(?:\\s-[A-Za-z]*[dD]\\b|\\s--delete\\b)`) }],
    effect: "deny",
    code: "DESTRUCTIVE_GIT",
    reason: "deleting a branch",
  },
  { id: "fs-delete", tool: "fs", action: "delete", effect: "deny", code: "GITCLEANFAIL", reason: "deleting files is not allowed" },
  {
    id: "fs-write-outside",
    tool: "fs",
    action: "write",
    requires: ["path"],
    when: [{ arg: "path", not: true, within: { roots: ["$writeRoots"], allowMissing: true } }],
    effect: "deny",
    code: "MODIFICATIONFAIL",
    reason: "a write outside the write allowlist",
  },
  {
    id: "fs-write-inside",
    tool: "fs",
    action: "write",
    requires: ["path"],
    when: [{ arg: "path", within: { roots: ["$writeRoots"], allowMissing: true } }],
    effect: "allow",
    reason: "a write inside the write allowlist",
  },
  { id: "webfetch-denied", tool: "webfetch", action: "*", effect: "deny", code: "NETWORK_DENIED", reason: "no network access" },
  { id: "task-denied", tool: "task", action: "*", effect: "deny", code: "DENIED_BY_RULE", reason: "no subagents" },
  {
    id: "bash-allowlisted",
    tool: "bash",
    action: "run",
    requires: ["command"],
    when: [{ arg: "command", regex: BASH_ALLOWED }],
    effect: "allow",
    reason: "an allowlisted program (see BASH_ALLOWLIST)",
  },
  { id: "question-asks-a-person", tool: "question", action: "*", effect: "ask", reason: "the agent's questions go to a person (answered or denied by the deadline)" },
  { id: "todo-allowed", tool: "todowrite", action: "*", effect: "allow", reason: "the agent's own todo list" },
  { id: "read-allowed", tool: "read", action: "*", effect: "allow", reason: "reading is allowed" },
  { id: "fs-read-allowed", tool: "fs", action: "read", effect: "allow", reason: "reading is allowed" },
];
