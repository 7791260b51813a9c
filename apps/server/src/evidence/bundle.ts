/**
 * Evidence bundles: a directory of files, each with a `<file>.sha256` sidecar (the GNU
 * `sha256sum -b` line), and `manifest.json` (with its own sidecar) listing every file with its
 * sha256 and size, sorted by path in byte order. `verifyBundle` re-hashes everything and names
 * each file that is missing, changed, or there without being listed.
 */
import { copyFile, lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { KodoError } from "../lib/errors.js";
import { kodoVersion } from "../lib/version.js";
import { SIDECAR_SUFFIX, compareBytes, hashFile, isBundlePath, sidecarLine } from "./sidecar.js";

export const MANIFEST = "manifest.json";
export const BUNDLE_FORMAT = "kodo-evidence/1";

/** One file of a bundle: its content, or a file to copy in. `path` is relative to the bundle, `/`-separated. */
export type BundleEntry = { path: string; content: string | Buffer } | { path: string; sourceFile: string };

export const ManifestFile = z.object({ path: z.string().refine(isBundlePath, "not a path inside the bundle"), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).strict();
export type ManifestFile = z.infer<typeof ManifestFile>;

export const Manifest = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    runId: z.string().nullable(),
    taskId: z.string().nullable(),
    kodoVersion: z.string(),
    createdAt: z.string(),
    files: z.array(ManifestFile),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;

export interface BundleInfo {
  runId?: string;
  taskId?: string;
  createdAt?: Date;
}

export interface BundleVerdict {
  ok: boolean;
  /** listed (or a sidecar of a listed file) but not there */
  missing: string[];
  /** there but not listed: neither a listed file, its sidecar, nor the manifest and its sidecar */
  extra: string[];
  /** there but not what the manifest (or, for the manifest, its sidecar) says */
  changed: string[];
  /** the files the manifest lists */
  files: number;
}

function isReserved(entryPath: string): boolean {
  return entryPath === MANIFEST || entryPath === `${MANIFEST}${SIDECAR_SUFFIX}` || entryPath.endsWith(SIDECAR_SUFFIX);
}

async function writeSidecar(file: string, sha256: string): Promise<void> {
  await writeFile(`${file}${SIDECAR_SUFFIX}`, sidecarLine(sha256, path.basename(file)));
}

/**
 * Writes every entry under `dir` (created if needed) with its sidecar, then the manifest and its
 * sidecar. Entry paths must be relative bundle paths, unique, and not end in `.sha256` (that name
 * belongs to a sidecar); anything else is a VALIDATION_FAILED before a byte is written.
 */
export async function writeBundle(dir: string, entries: readonly BundleEntry[], info: BundleInfo = {}): Promise<Manifest> {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (!isBundlePath(entry.path) || isReserved(entry.path) || seen.has(entry.path)) {
      const why = seen.has(entry.path) ? "is given twice" : isReserved(entry.path) ? "is reserved for the manifest and sidecars" : "is not a relative path inside the bundle";
      throw new KodoError("VALIDATION_FAILED", `evidence file ${JSON.stringify(entry.path)} ${why}`, { details: { path: entry.path } });
    }
    seen.add(entry.path);
  }
  const files: ManifestFile[] = [];
  for (const entry of entries) {
    const target = path.join(dir, ...entry.path.split("/"));
    await mkdir(path.dirname(target), { recursive: true });
    if ("content" in entry) await writeFile(target, entry.content);
    else await copyFile(entry.sourceFile, target);
    // the hash of what landed in the bundle, not of what was meant to
    const { sha256, bytes } = await hashFile(target);
    await writeSidecar(target, sha256);
    files.push({ path: entry.path, sha256, bytes });
  }
  return writeManifest(dir, files, info);
}

/**
 * Seals a directory whose files are already in place (each may already have its sidecar, e.g. the
 * dogfood suite's ledger): every regular file gets a sidecar and a manifest entry, so
 * `verifyBundle` (and `kodo verify`) checks the directory as a whole.
 */
export async function sealBundle(dir: string, info: BundleInfo = {}): Promise<Manifest> {
  const files: ManifestFile[] = [];
  for (const [relative, kind] of await listFiles(dir)) {
    if (kind !== "file" || isReserved(relative)) continue;
    const target = path.join(dir, ...relative.split("/"));
    const { sha256, bytes } = await hashFile(target);
    await writeSidecar(target, sha256);
    files.push({ path: relative, sha256, bytes });
  }
  return writeManifest(dir, files, info);
}

async function writeManifest(dir: string, files: ManifestFile[], info: BundleInfo): Promise<Manifest> {
  files.sort((a, b) => compareBytes(a.path, b.path));
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    runId: info.runId ?? null,
    taskId: info.taskId ?? null,
    kodoVersion: kodoVersion(),
    createdAt: (info.createdAt ?? new Date()).toISOString(),
    files,
  };
  const manifestFile = path.join(dir, MANIFEST);
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await writeSidecar(manifestFile, (await hashFile(manifestFile)).sha256);
  return manifest;
}

/** Every non-directory below `dir`, as bundle paths (symlinks and other odd files included). */
async function listFiles(dir: string): Promise<Map<string, "file" | "other">> {
  const found = new Map<string, "file" | "other">();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else found.set(child, entry.isFile() ? "file" : "other");
    }
  };
  await walk("");
  return found;
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort(compareBytes);
}

/**
 * Checks a bundle: every listed file is there with its sha256 and size, every sidecar says the
 * manifest's hash, the manifest matches its own sidecar, and nothing else is in the directory.
 * A directory that does not exist is a NOT_FOUND; everything else is an answer.
 */
export async function verifyBundle(dir: string): Promise<BundleVerdict> {
  const stat = await lstat(dir).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) throw new KodoError("NOT_FOUND", `${dir} is not a directory`, { details: { dir } });
  const present = await listFiles(dir);
  const missing = new Set<string>();
  const changed = new Set<string>();
  const known = new Set<string>([MANIFEST, `${MANIFEST}${SIDECAR_SUFFIX}`]);
  const verdict = (files: number): BundleVerdict => {
    const extra = sorted([...present.keys()].filter((file) => !known.has(file)));
    return { ok: missing.size + changed.size + extra.length === 0, missing: sorted(missing), extra, changed: sorted(changed), files };
  };

  /** One file against the hash it should have, and its sidecar. */
  const check = async (relative: string, expected: { sha256: string; bytes?: number } | undefined): Promise<void> => {
    const file = path.join(dir, ...relative.split("/"));
    const sidecar = `${relative}${SIDECAR_SUFFIX}`;
    const kind = present.get(relative);
    if (kind === undefined) missing.add(relative);
    else if (kind !== "file") changed.add(relative);
    else if (expected !== undefined) {
      const actual = await hashFile(file);
      if (actual.sha256 !== expected.sha256 || (expected.bytes !== undefined && actual.bytes !== expected.bytes)) changed.add(relative);
    }
    if (present.get(sidecar) === undefined) missing.add(sidecar);
    else if (expected !== undefined && (await readText(`${file}${SIDECAR_SUFFIX}`)) !== sidecarLine(expected.sha256, path.basename(file))) changed.add(sidecar);
  };

  const manifestText = present.get(MANIFEST) === "file" ? await readText(path.join(dir, MANIFEST)) : undefined;
  if (manifestText === undefined) {
    await check(MANIFEST, undefined);
    return verdict(0);
  }
  // The manifest is checked against its sidecar (the only hash a bundle has of it).
  const manifestSidecar = await readText(path.join(dir, `${MANIFEST}${SIDECAR_SUFFIX}`));
  const sidecarHash = /^([0-9a-f]{64}) \*manifest\.json\n$/.exec(manifestSidecar ?? "")?.[1];
  if (manifestSidecar === undefined) missing.add(`${MANIFEST}${SIDECAR_SUFFIX}`);
  else if (sidecarHash === undefined) changed.add(`${MANIFEST}${SIDECAR_SUFFIX}`);
  else if ((await hashFile(path.join(dir, MANIFEST))).sha256 !== sidecarHash) changed.add(MANIFEST);

  let manifest: Manifest;
  try {
    manifest = Manifest.parse(JSON.parse(manifestText));
  } catch {
    changed.add(MANIFEST);
    return verdict(0);
  }
  for (const file of manifest.files) {
    known.add(file.path);
    known.add(`${file.path}${SIDECAR_SUFFIX}`);
  }
  for (const file of manifest.files) await check(file.path, file);
  return verdict(manifest.files.length);
}

/** The manifest of a bundle, parsed (NOT_FOUND / VALIDATION_FAILED otherwise). */
export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readText(path.join(dir, MANIFEST));
  if (text === undefined) throw new KodoError("NOT_FOUND", `${dir} has no ${MANIFEST}`, { details: { dir } });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = Manifest.safeParse(value);
  if (!parsed.success) throw new KodoError("VALIDATION_FAILED", `${path.join(dir, MANIFEST)} is not an evidence manifest`, { details: { dir } });
  return parsed.data;
}
