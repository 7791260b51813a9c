import pg from "pg";
import { KodoError } from "../lib/errors.js";

/** A URL safe to print: the password replaced by "***". */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<not a URL>";
  }
}

/**
 * Checks the shape of a database URL before anything connects with it. Throws CONFIG_INVALID with
 * an example when it is not a postgres:// URL (pg would otherwise try odd defaults).
 */
export function parseDatabaseUrl(raw: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new KodoError("CONFIG_INVALID", "DATABASE_URL is not a URL; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new KodoError("CONFIG_INVALID", `DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//…`);
  }
  return parsed;
}

function reason(error: unknown, url: string, timeoutMs: number): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === "string" && message !== "" ? message : String(error);
  let where = redactUrl(url);
  let user = "?";
  let database = "?";
  try {
    const parsed = new URL(url);
    where = `${parsed.hostname}:${parsed.port || "5432"}`;
    user = decodeURIComponent(parsed.username) || "?";
    database = decodeURIComponent(parsed.pathname.slice(1)) || "?";
  } catch {
    // keep the redacted form
  }
  switch (code) {
    case "ECONNREFUSED":
      return `nothing accepts connections at ${where}: is the server running?`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host of ${where} not found`;
    case "28P01":
      return `password authentication failed for user "${user}"`;
    case "28000":
      return `the server refused user "${user}" (${text})`;
    case "3D000":
      return `database "${database}" does not exist: create it, or fix the URL`;
    case "57P03":
      return "the server is starting up or shutting down: try again";
    default:
      return /timeout/i.test(text) ? `no answer from ${where} within ${timeoutMs} ms` : text;
  }
}

/** A DB_UNAVAILABLE error for a failed connection, saying what went wrong in plain words. */
export function connectionError(error: unknown, url: string, timeoutMs: number, what = "cannot connect to Postgres"): KodoError {
  return new KodoError("DB_UNAVAILABLE", `${what} at ${redactUrl(url)}: ${reason(error, url, timeoutMs)}`, {
    retryable: true,
    cause: error,
  });
}

export interface ConnectOptions {
  /** how long connecting (TCP + auth) may take */
  timeoutMs: number;
  /** server-side statement_timeout for the session */
  statementTimeoutMs: number;
  applicationName?: string;
}

/**
 * A connected single pg.Client, with bounded connect time and statement time. A failure becomes
 * DB_UNAVAILABLE. An `error` listener is attached so a server-side disconnect cannot crash the
 * process (the next query fails instead).
 */
export async function connectClient(url: string, options: ConnectOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.timeoutMs,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName ?? "kodo",
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, url, options.timeoutMs);
  }
  return client;
}
