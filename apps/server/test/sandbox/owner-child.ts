/**
 * A separate kodo-like process that runs the payload through runSandboxed, so a test can SIGKILL
 * it mid-run and see what its death leaves behind. The sandbox sources (and the two modules they
 * import) are transpiled with TypeScript's transpileModule into a temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { TEST_MARK_ENV, tempDir } from "./helpers.js";

const serverSrc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

const ENTRY = `
import { runSandboxed } from "./src/sandbox/index.js";
const [payload, tag, cwd, mark, allow] = process.argv.slice(2);
process.stdout.write("running\\n");
await runSandboxed({
  command: [payload, tag, "wait"], cwd, writable: [cwd], network: false,
  env: { ${TEST_MARK_ENV}: mark }, timeoutMs: 60000, allowUnsandboxed: allow === "1",
});
`;

function transpile(relative: string, out: string): void {
  const source = fs.readFileSync(path.join(serverSrc, relative), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    fileName: relative,
  });
  const target = path.join(out, "src", relative.replace(/\.ts$/, ".js"));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, outputText);
}

/** Builds the owner program; returns the path of its entry script. */
export function buildOwnerProgram(): string {
  const out = tempDir("owner-build");
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({ type: "module" }));
  for (const name of fs.readdirSync(path.join(serverSrc, "sandbox")).filter((file) => file.endsWith(".ts"))) transpile(`sandbox/${name}`, out);
  transpile("lib/errors.ts", out);
  transpile("agent/process-table.ts", out);
  const entry = path.join(out, "owner.mjs");
  fs.writeFileSync(entry, ENTRY);
  return entry;
}

export function startOwner(entry: string, args: { payload: string; tag: string; cwd: string; mark: string; allowUnsandboxed: boolean; bwrap?: string }): ChildProcess {
  const env: NodeJS.ProcessEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
  if (args.bwrap !== undefined) env["KODO_BWRAP"] = args.bwrap;
  return spawn(process.execPath, [entry, args.payload, args.tag, args.cwd, args.mark, args.allowUnsandboxed ? "1" : "0"], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
}
