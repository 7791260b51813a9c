/**
 * A sandbox's processes are exactly the members of its pid namespace: no setsid, double fork or
 * cleared environment takes a process out of it, and when the namespace's init exits the kernel
 * SIGKILLs every member. We find members through `/proc/<pid>/ns/pid`.
 *
 * Namespace inode numbers are reused once a namespace is freed. Holding an open fd on the
 * namespace keeps it (and its number) alive, so while we hold it a match is certainly ours and
 * safe to signal; without the fd we only observe.
 */
import fs from "node:fs";
import { isAlive, listPids } from "../agent/process-table.js";

function namespaceLink(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined; // gone, a zombie, or not ours to read
  }
}

/**
 * Live pids (seen from the host) in the pid namespace with this inode. Zombies are dead: the
 * sandbox's init often lingers as one, re-parented to the host's pid 1, until that reaps it.
 */
export function namespaceMembers(inode: number): number[] {
  const link = `pid:[${inode}]`;
  return listPids().filter((pid) => pid !== process.pid && namespaceLink(pid) === link && isAlive(pid));
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone
  }
}

export class HeldNamespace {
  private fd: number | undefined;

  private constructor(
    readonly inode: number,
    readonly initPid: number,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens the namespace of `initPid` if it is still the one bwrap reported; undefined when init is already gone. */
  static hold(initPid: number, inode: number): HeldNamespace | undefined {
    let fd: number;
    try {
      fd = fs.openSync(`/proc/${initPid}/ns/pid`, "r");
    } catch {
      return undefined;
    }
    if (fs.fstatSync(fd).ino !== inode) {
      fs.closeSync(fd); // the pid was reused by a process elsewhere
      return undefined;
    }
    return new HeldNamespace(inode, initPid, fd);
  }

  get held(): boolean {
    return this.fd !== undefined;
  }

  members(): number[] {
    return namespaceMembers(this.inode);
  }

  /** Signals every current member (init ignores everything but SIGKILL from outside). Only while held. */
  signalMembers(signal: NodeJS.Signals): number {
    if (!this.held) return 0;
    const members = this.members();
    for (const pid of members) send(pid, signal);
    return members.length;
  }

  /** SIGKILL to the namespace's init: the kernel then SIGKILLs every other member. Only while held. */
  killInit(): void {
    if (this.held && namespaceLink(this.initPid) === `pid:[${this.inode}]`) send(this.initPid, "SIGKILL");
  }

  release(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
