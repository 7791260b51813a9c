/**
 * Studio, the web board: the static files of `apps/studio/dist`, served at `/` by `kodo serve`.
 *
 * The shell holds no data, so it needs no token (every `/api` route still does; the Host and
 * Origin checks hold for everything). The token reaches the page in the URL's fragment
 * (`/#token=…`), which a browser never sends, so it is never in a request this server sees.
 * Any GET outside `/api` that is not a file gets `index.html` (the board routes in the browser).
 * Hashed assets (`/assets/*`, named by their content) are cached for a year; the rest revalidates.
 */
import { open, realpath } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";

/** Where `npm run build` puts the board, from this file (src/http or dist/http) up to apps/. */
export const STUDIO_DIST = fileURLToPath(new URL("../../../studio/dist/", import.meta.url));

/** True for the paths the studio serves: everything outside the API. */
export function isStudioPath(requestPath: string): boolean {
  // GET /metrics (routes/metrics.ts) is data, not the board: it keeps the bearer token
  return requestPath !== "/api" && !requestPath.startsWith("/api/") && requestPath !== "/metrics";
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/**
 * The page may talk to its own origin only, run only its own scripts, and be framed by nobody
 * (a framed board could be clicked into approving). No referrer leaves it.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>kodo Studio is not built</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>kodo Studio is not built</h1>
<p>This kodo serves its API, but the web board's files are missing. In the kodo repository, run</p>
<pre>npm run build</pre>
<p>then reload this page (the server need not restart). The command line works without it: <code>kodo --help</code>.</p>
</body></html>
`;

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

function inside(dir: string, file: string): boolean {
  const within = path.relative(dir, file);
  return within !== "" && !within.startsWith("..") && !path.isAbsolute(within);
}

/** `dir/relative` when it is a regular file inside `dir`, links resolved. Never reads outside `dir`. */
async function readInside(dir: string, relative: string): Promise<StaticFile | undefined> {
  const file = path.resolve(dir, relative);
  if (!inside(dir, file)) return undefined;
  const [realDir, realFile] = await Promise.all([realpath(dir).catch(() => undefined), realpath(file).catch(() => undefined)]);
  if (realDir === undefined || realFile === undefined || !inside(realDir, realFile)) return undefined;
  const handle = await open(realFile, "r").catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const body = new Uint8Array(await handle.readFile());
    return {
      body,
      type: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      etag: `W/"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`,
    };
  } finally {
    await handle.close();
  }
}

/** The request path as a relative file name, or undefined when it cannot name a file of the board. */
function relativeName(requestPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const segments = decoded.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment === "." || segment === ".." || segment.startsWith("."))) return undefined;
  return segments.join("/");
}

function send(c: Context, file: StaticFile, cacheControl: string): Response {
  const headers = { ...SECURITY_HEADERS, "content-type": file.type, "cache-control": cacheControl, etag: file.etag };
  if (c.req.header("if-none-match") === file.etag) return c.body(null, 304, headers);
  return c.body(file.body, 200, headers);
}

/**
 * GET (and HEAD) of every path outside `/api`: a file of `dir`, else `index.html`; when `dir` holds
 * no `index.html` (the studio was not built), a page that says how to build it.
 */
export function registerStudio(app: OpenAPIHono, options: { dir: string }): void {
  const dir = path.resolve(options.dir);
  app.get("*", async (c, next) => {
    if (!isStudioPath(c.req.path)) return next();
    const relative = relativeName(c.req.path);
    if (relative !== undefined && relative !== "" && relative !== "index.html") {
      const file = await readInside(dir, relative);
      if (file !== undefined) return send(c, file, relative.startsWith("assets/") ? IMMUTABLE : REVALIDATE);
      // a missing hashed asset is a stale page asking for an old build: say so, do not answer HTML
      if (relative.startsWith("assets/")) return c.text("not found", 404, { ...SECURITY_HEADERS, "cache-control": REVALIDATE });
    }
    const index = await readInside(dir, "index.html");
    if (index !== undefined) return send(c, index, REVALIDATE);
    return c.html(NOT_BUILT_PAGE, 503, { ...SECURITY_HEADERS, "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'", "cache-control": REVALIDATE });
  });
}
