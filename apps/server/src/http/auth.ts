import { randomBytes, timingSafeEqual } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import type { MiddlewareHandler } from "hono";
import { KodoError } from "../lib/errors.js";
import { errorResponse } from "./errors.js";

/**
 * The API token: 32 random bytes (hex) in a 0600 file in the kodo home. kodo refuses to start
 * when the file is readable by anyone else; the CLI (and later the board) read it from there.
 */
export async function ensureToken(file: string): Promise<string> {
  const existing = await stat(file).catch(() => undefined);
  if (existing !== undefined) {
    if ((existing.mode & 0o077) !== 0) {
      throw new KodoError("CONFIG_INVALID", `the API token file ${file} has mode ${(existing.mode & 0o777).toString(8)}: make it 0600 (chmod 600 ${file})`);
    }
    const token = (await readFile(file, "utf8")).trim();
    if (!/^[0-9a-f]{64}$/.test(token)) throw new KodoError("CONFIG_INVALID", `the API token file ${file} does not hold a kodo token (64 hex characters)`);
    return token;
  }
  const token = randomBytes(32).toString("hex");
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(`${token}\n`);
  } finally {
    await handle.close();
  }
  return token;
}

export interface AuthOptions {
  token: string;
  /** `host:port` values the Host header may carry (the DNS-rebinding defence); read per request */
  allowedHosts: () => ReadonlySet<string>;
  /** routes answered without a token (still Host-checked) */
  open?: ReadonlySet<string>;
  /** paths answered without a token (still Host- and Origin-checked), e.g. the board's static shell */
  openWhen?: (path: string) => boolean;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Host allowlist, Origin allowlist (when present), then `Authorization: Bearer <token>`, compared
 * in constant time. No CORS headers are ever sent, so a foreign page cannot read an answer.
 */
export function authMiddleware(options: AuthOptions): MiddlewareHandler {
  return async (c, next) => {
    const hosts = options.allowedHosts();
    const host = c.req.header("host")?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      return errorResponse(c, new KodoError("FORBIDDEN", `Host ${JSON.stringify(host ?? "")} is not allowed`));
    }
    const origin = c.req.header("origin");
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        const parsed = new URL(origin);
        originHost = parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.host.toLowerCase() : undefined;
      } catch {
        originHost = undefined;
      }
      if (originHost === undefined || !hosts.has(originHost)) {
        return errorResponse(c, new KodoError("FORBIDDEN", `Origin ${JSON.stringify(origin)} is not allowed`));
      }
    }
    if (options.open?.has(c.req.path) === true || options.openWhen?.(c.req.path) === true) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match?.[1] === undefined || !sameToken(match[1], options.token)) {
      return errorResponse(c, new KodoError("UNAUTHORIZED", "missing or wrong API token: send Authorization: Bearer <the token in $KODO_HOME/token>"));
    }
    return next();
  };
}

/** The Host values a server on `port` answers to: the loopback names plus configured ones. */
export function loopbackHosts(port: number, extra: readonly string[] = []): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...extra.map((name) => (name.includes(":") ? name : `${name}:${port}`).toLowerCase())]);
}
