/**
 * The text of a path before it reaches the file system: what is refused outright, and where a
 * pytest-style `::node` suffix starts. Pure functions, no I/O.
 */

/** Linux PATH_MAX counts the terminating NUL: a longer path is ENAMETOOLONG for the kernel anyway. */
const PATH_MAX_BYTES = 4095;

// C0 controls (NUL included), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/u;
// With the `u` flag a well-formed surrogate pair is one code point: only a lone half matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `text` cannot be checked at all (any use: target, node id, root), or null. */
function textProblem(text: string): string | null {
  if (text.includes("\0")) return "contains a NUL byte";
  if (CONTROL_CHARACTER.test(text)) return "contains a control character";
  if (LONE_SURROGATE.test(text)) return "is not valid Unicode (a lone surrogate)";
  return null;
}

/**
 * Why `text` is not acceptable as a path, or null. Refused: NUL and control characters,
 * backslashes (a separator elsewhere, an ordinary byte here: two readings of one string), a
 * leading `~` (`~`, `~/x`, `~user`: a shell or `expanduser` would read it as a home directory;
 * a `~` later in a name, as in `notes~`, is an ordinary character), a leading `-` (a runner
 * would read it as an option) and anything over PATH_MAX.
 */
export function pathTextProblem(text: string): string | null {
  const problem = textProblem(text);
  if (problem !== null) return problem;
  if (text.includes("\\")) return "contains a backslash";
  if (text.startsWith("~")) return "starts with `~` (a home directory is never expanded)";
  if (text.startsWith("-")) return "starts with `-` (it would read as an option)";
  if (Buffer.byteLength(text, "utf8") > PATH_MAX_BYTES) return `is longer than ${PATH_MAX_BYTES} bytes`;
  return null;
}

export type ParsedTarget =
  | { kind: "ok"; path: string; node: string | null }
  | { kind: "required"; reason: string }
  | { kind: "invalid"; reason: string };

/**
 * Splits a test target into the path and the `::node` suffix (from the first `::`, kept
 * verbatim with its `::`). pytest reads the path the same way: its path is what precedes the
 * first `::` (and it refuses a `[` before that, so the two readings cannot differ).
 * Missing, empty or whitespace-only input is `required`: there is no "run everything" default.
 */
export function parseTarget(raw: string | undefined): ParsedTarget {
  if (raw === undefined || raw.trim() === "") return { kind: "required", reason: "a test target is required (empty input is never read as everything)" };
  const problem = textProblem(raw);
  if (problem !== null) return { kind: "invalid", reason: `the target ${problem}` };
  const separator = raw.indexOf("::");
  const path = separator === -1 ? raw : raw.slice(0, separator);
  const node = separator === -1 ? null : raw.slice(separator);
  if (path === "") return { kind: "invalid", reason: "the target has a `::node` suffix but no path before it" };
  if (node === "::") return { kind: "invalid", reason: "the target ends in `::` with no node name after it" };
  const pathProblem = pathTextProblem(path);
  if (pathProblem !== null) return { kind: "invalid", reason: `the target path ${pathProblem}` };
  return { kind: "ok", path, node };
}
