/**
 * Port collisions: kodo's default port (7433) and OpenCode's default (4096). A port is taken when
 * binding 127.0.0.1:port fails; who holds it is read from /proc (the listening socket's inode, then
 * the process with that socket open), best effort.
 */
import fs from "node:fs";
import { isPortFree } from "../../db/free-port.js";
import { readPidfile } from "../../agent/pidfile.js";
import { listPids, readCmdline, readStat } from "../../agent/process-table.js";
import type { DoctorContext } from "../context.js";
import { pass, warn, type Finding } from "../types.js";

export interface PortHolder {
  pid: number;
  command: string;
}

/** Inodes of sockets listening on `port` (any address, IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // st 0A = LISTEN
      if (local === undefined || fields[3] !== "0A" || !local.endsWith(`:${hexPort}`)) continue;
      const inode = fields[9];
      if (inode !== undefined && inode !== "0") inodes.add(inode);
    }
  }
  return inodes;
}

/** The processes that hold a socket listening on `port`. */
export function portHolders(port: number): PortHolder[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const holders: PortHolder[] = [];
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return wanted.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid, command: (readCmdline(pid) ?? []).join(" ").slice(0, 200) });
  }
  return holders;
}

/** `pid` or one of its ancestors is in `ours`. */
function descendsFrom(pid: number, ours: ReadonlySet<number>): boolean {
  let current: number | undefined = pid;
  for (let depth = 0; current !== undefined && current > 1 && depth < 64; depth += 1) {
    if (ours.has(current)) return true;
    current = readStat(current)?.ppid;
  }
  return false;
}

export async function checkPorts(context: DoctorContext): Promise<Finding> {
  const kodo = await context.kodo();
  const ours = new Set<number>();
  if (kodo.state === "alive") ours.add(kodo.server.pid);
  const opencode = readPidfile(context.config.home.opencode);
  if (opencode !== undefined) ours.add(opencode.pid);
  const wanted = [
    { name: "kodo", port: context.ports.kodo, clash: "`kodo serve` on its default port fails with EADDRINUSE", fix: "stop that process, or start kodo with --port N (0 picks a free one)" },
    {
      name: "opencode",
      port: context.ports.opencode,
      clash: "kodo itself starts OpenCode on a free port, but a manual `opencode serve` on its default port fails",
      fix: "stop that process if it is a forgotten `opencode serve`, or give `opencode serve --port N`",
    },
  ];
  const findings: string[] = [];
  const fixes: string[] = [];
  const details: Record<string, unknown> = {};
  for (const entry of wanted) {
    if (await isPortFree(entry.port)) {
      details[entry.name] = { port: entry.port, free: true };
      continue;
    }
    const holders = portHolders(entry.port);
    details[entry.name] = { port: entry.port, free: false, holders };
    if (holders.length > 0 && holders.every((holder) => descendsFrom(holder.pid, ours))) continue;
    const who = holders.length === 0 ? "an unknown process (not visible from here)" : holders.map((holder) => `pid ${holder.pid} (${holder.command || "?"})`).join(", ");
    findings.push(`port ${entry.port} (${entry.name}'s default) is taken by ${who}: ${entry.clash}`);
    fixes.push(entry.fix);
  }
  if (findings.length > 0) return warn(findings.join("; "), fixes.join("; "), details);
  const states = wanted.map((entry) => `${entry.port} (${entry.name}) ${(details[entry.name] as { free: boolean }).free ? "free" : "held by this home's own processes"}`);
  return pass(`no port collision: ${states.join(", ")}`, details);
}
