/**
 * What a CI run leaves for the job: `result.json`, `junit.xml` and the run's evidence bundle
 * (`evidence/`, checked after the copy) in the out directory.
 */
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { verifyBundle, type BundleVerdict } from "../evidence/bundle.js";
import { junitReport, type JunitCase } from "./junit.js";

export const RESULT_FILE = "result.json";
export const JUNIT_FILE = "junit.xml";
export const EVIDENCE_DIR = "evidence";

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target);
    else if (entry.isFile()) await copyFile(source, target);
  }
}

/** Copies a bundle to `<outDir>/evidence` (replacing an older one) and verifies the copy. */
export async function copyEvidence(bundleDir: string, outDir: string): Promise<{ dir: string; verdict: BundleVerdict }> {
  const dir = path.join(outDir, EVIDENCE_DIR);
  await rm(dir, { recursive: true, force: true });
  await copyTree(bundleDir, dir);
  return { dir, verdict: await verifyBundle(dir) };
}

/** Writes `result.json` and `junit.xml` into `outDir` (created if needed). */
export async function writeReports(outDir: string, result: unknown, testCase: JunitCase): Promise<{ result: string; junit: string }> {
  await mkdir(outDir, { recursive: true });
  const files = { result: path.join(outDir, RESULT_FILE), junit: path.join(outDir, JUNIT_FILE) };
  await writeFile(files.result, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.junit, junitReport(testCase));
  return files;
}
