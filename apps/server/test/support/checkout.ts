import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { runGit } from "../../src/workspace/git.js";

/**
 * What "the user's checkout" is, as one digest: its files (paths, modes, bytes), index, HEAD,
 * `main` and status. kodo's own branches are left out: runs add those.
 */
export async function digestCheckout(repo: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      if (dir === repo && entry === ".git") continue;
      const full = path.join(dir, entry);
      const stat = await lstat(full);
      hash.update(`${path.relative(repo, full)}\0${stat.mode}\0`);
      if (stat.isDirectory()) await walk(full);
      else if (stat.isFile()) hash.update(await readFile(full));
    }
  };
  await walk(repo);
  hash.update(await readFile(path.join(repo, ".git", "index")));
  hash.update(await readFile(path.join(repo, ".git", "HEAD")));
  hash.update((await runGit(["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/main"], { cwd: repo })).stdout);
  hash.update((await runGit(["status", "--porcelain=v2", "-z"], { cwd: repo })).stdout);
  return hash.digest("hex");
}
