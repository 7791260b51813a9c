/**
 * Studio's static serving, through the front door the way kodo mounts it: the auth middleware
 * (token for /api only, Host and Origin for everything), an API route, the board last.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authMiddleware } from "../../src/http/auth.js";
import { errorResponse } from "../../src/http/errors.js";
import { isStudioPath, registerStudio, STUDIO_DIST } from "../../src/http/studio.js";
import { KodoError } from "../../src/lib/errors.js";

const TOKEN = "a".repeat(64);
const HOST = "127.0.0.1:7433";
let root: string;
let dist: string;

function appFor(dir: string): OpenAPIHono {
  const app = new OpenAPIHono();
  app.use("*", authMiddleware({ token: TOKEN, allowedHosts: () => new Set([HOST]), open: new Set(["/api/health"]), openWhen: isStudioPath }));
  app.notFound((c) => errorResponse(c, new KodoError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)));
  app.get("/api/tasks", (c) => c.json({ tasks: [] }));
  registerStudio(app, { dir });
  return app;
}

function get(app: OpenAPIHono, route: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return Promise.resolve(app.request(route, { method, headers: { host: HOST, ...headers } }));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kodo-studio-static-"));
  dist = path.join(root, "dist");
  await mkdir(path.join(dist, "assets"), { recursive: true });
  await writeFile(path.join(dist, "index.html"), "<!doctype html><title>board</title>");
  await writeFile(path.join(dist, "assets", "index-abc123.js"), "console.log(1)");
  await writeFile(path.join(dist, "assets", "index-abc123.css"), "body{}");
  await writeFile(path.join(dist, "favicon.svg"), "<svg/>");
  await writeFile(path.join(root, "secret.txt"), "outside the dist");
  await symlink(path.join(root, "secret.txt"), path.join(dist, "link.txt"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the board's static shell", () => {
  it("serves index.html at / without a token, revalidated, with a strict CSP and no framing", async () => {
    const response = await get(appFor(dist), "/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(await response.text()).toContain("<title>board</title>");
  });

  it("serves hashed assets with their content type, cached for a year; other files revalidate", async () => {
    const app = appFor(dist);
    const script = await get(app, "/assets/index-abc123.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await script.text()).toBe("console.log(1)");
    const style = await get(app, "/assets/index-abc123.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await get(app, "/favicon.svg");
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
    // a revalidation with the same ETag is answered 304
    const again = await get(app, "/favicon.svg", { "if-none-match": icon.headers.get("etag") ?? "" });
    expect(again.status).toBe(304);
    const head = await get(app, "/assets/index-abc123.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers the board's own paths with index.html (the SPA routes in the browser), but a missing asset with 404", async () => {
    const app = appFor(dist);
    for (const route of ["/tasks/tsk_abc123", "/approvals", "/some/where"]) {
      const response = await get(app, route);
      expect(response.status, route).toBe(200);
      expect(await response.text(), route).toContain("<title>board</title>");
    }
    const stale = await get(app, "/assets/index-old999.js");
    expect(stale.status).toBe(404);
    expect(stale.headers.get("content-type")).toContain("text/plain");
  });

  it("never reads outside the dist: .., encoded .., dot files and symlinks out get index.html", async () => {
    const app = appFor(dist);
    for (const route of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt", "/.env", "/%00"]) {
      const response = await get(app, route);
      const body = await response.text();
      expect(body, route).not.toContain("outside the dist");
    }
  });

  it("keeps /api behind the token, whatever the spelling, and 404s unknown API paths as JSON", async () => {
    const app = appFor(dist);
    expect((await get(app, "/api/tasks")).status).toBe(401);
    expect((await get(app, "/%61pi/tasks")).status).toBe(401);
    expect((await get(app, "/api/tasks", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const unknown = await get(app, "/api/nope", { authorization: `Bearer ${TOKEN}` });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await get(app, "/api", { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
    expect((await get(app, "/api")).status).toBe(401);
  });

  it("checks Host and Origin for the shell too (DNS rebinding, cross-site pages)", async () => {
    const app = appFor(dist);
    expect((await get(app, "/", { host: "evil.example:7433" })).status).toBe(403);
    expect((await get(app, "/", { origin: "http://evil.example" })).status).toBe(403);
    expect((await get(app, "/", { origin: `http://${HOST}` })).status).toBe(200);
  });

  it("without a built studio, kodo still serves: a page that says to run npm run build", async () => {
    const app = appFor(path.join(root, "not-built"));
    const response = await get(app, "/");
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toContain("npm run build");
    expect((await get(app, "/api/tasks", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it("looks for the build in apps/studio/dist", () => {
    expect(STUDIO_DIST.replace(/\/$/, "").split(path.sep).slice(-3)).toEqual(["apps", "studio", "dist"]);
  });
});
