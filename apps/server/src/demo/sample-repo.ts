import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { runGit } from "../workspace/git.js";

/** The demo's sample project: a tiny ESM package whose tests run with `node --test`. */
export async function createSampleRepo(dir: string): Promise<string> {
  await mkdir(path.join(dir, "src"), { recursive: true });
  await writeFile(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "kodo-demo-sample", version: "1.0.0", private: true, type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  );
  await writeFile(path.join(dir, "src", "index.js"), `export function greet(name) {\n  return \`Hello, \${name}!\`;\n}\n`);
  await writeFile(path.join(dir, "README.md"), "# kodo demo sample\n\nA tiny project kodo's demo agent works on.\n");
  await runGit(["init", "-q", "-b", "main"], { cwd: dir });
  await runGit(["config", "user.name", "kodo demo"], { cwd: dir });
  await runGit(["config", "user.email", "demo@kodo.invalid"], { cwd: dir });
  await runGit(["add", "-A"], { cwd: dir });
  await runGit(["commit", "-q", "-m", "initial sample project"], { cwd: dir });
  return dir;
}
