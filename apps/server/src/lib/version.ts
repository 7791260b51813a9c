import { readFileSync } from "node:fs";

let cached: string | undefined;

/** kodo's version (the server package's), e.g. `0.1.0`; read once. */
export function kodoVersion(): string {
  if (cached !== undefined) return cached;
  try {
    // src/lib and dist/lib are both two levels below the package root
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    cached = typeof manifest.version === "string" ? manifest.version : "0.0.0";
  } catch {
    cached = "0.0.0";
  }
  return cached;
}
