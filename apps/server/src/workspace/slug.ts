import { KodoError } from "../lib/errors.js";

const MAX_SLUG_LENGTH = 40;
const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SHORT_ID_PATTERN = /^[a-z0-9]{1,32}$/;

/**
 * A branch- and path-safe name for a task title: lowercase ASCII letters and digits joined by
 * single `-`, at most 40 characters, never empty ("task"). Accents are folded ("Café" → "cafe").
 */
export function slugify(title: string): string {
  const ascii = title
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  let slug = ascii;
  if (slug.length > MAX_SLUG_LENGTH) {
    const cut = slug.slice(0, MAX_SLUG_LENGTH + 1);
    const lastDash = cut.lastIndexOf("-");
    // cut at a word boundary unless that throws most of the slug away
    slug = lastDash >= MAX_SLUG_LENGTH / 2 ? cut.slice(0, lastDash) : slug.slice(0, MAX_SLUG_LENGTH);
    slug = slug.replace(/-+$/g, "");
  }
  return slug === "" ? "task" : slug;
}

/** Slug and short id become a branch name and a directory name: only the safe alphabet. */
export function assertWorktreeName(slug: string, shortId: string): void {
  if (!SLUG_PATTERN.test(slug) || slug.length > 64) {
    throw new KodoError("VALIDATION_FAILED", `invalid worktree slug ${JSON.stringify(slug)}: use slugify()`, { details: { slug } });
  }
  if (!SHORT_ID_PATTERN.test(shortId)) {
    throw new KodoError("VALIDATION_FAILED", `invalid short id ${JSON.stringify(shortId)}: 1-32 of [a-z0-9]`, { details: { shortId } });
  }
}
