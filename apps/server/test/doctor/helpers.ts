/** Homes, processes and servers for the doctor's tests. */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { CheckResult, DoctorReport } from "../../src/doctor/types.js";

export async function emptyHome(prefix = "kodo-doctor-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The environment kodo would have: only what the test names, plus PATH. */
export function envOf(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", KODO_HOME: home, ...extra };
}

export function check(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no check ${id} in ${report.checks.map((candidate) => candidate.id).join(", ")}`);
  return found;
}

/** The pid of a process that has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  await new Promise((resolve) => child.once("exit", resolve));
  if (pid === undefined) throw new Error("no pid");
  return pid;
}

export async function writeServerFile(home: string, content: Record<string, unknown> | string): Promise<void> {
  await writeFile(path.join(home, "server.json"), typeof content === "string" ? content : JSON.stringify(content), { mode: 0o600 });
}

/** A TCP server that accepts connections and never says a word (a hung database). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An HTTP server answering GET /api/health as a kodo worker of `version` would. */
export async function healthServer(version: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/api/health") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ ok: true, version, database: "external", opencode: { url: null, restarts: 0, healthy: true }, worker: true }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
