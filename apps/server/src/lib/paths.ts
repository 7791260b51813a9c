import path from "node:path";

/**
 * True when `child` is `parent` itself or lies below it, decided on path components,
 * never on string prefixes (`/a/tests2` is not inside `/a/tests`). Both must be absolute and
 * already resolved the way the caller needs (this does not touch the file system).
 */
export function isWithin(parent: string, child: string): boolean {
  const relative = path.relative(path.resolve(parent), path.resolve(child));
  if (relative === "") return true;
  if (path.isAbsolute(relative)) return false;
  const first = relative.split(path.sep)[0];
  return first !== "..";
}
