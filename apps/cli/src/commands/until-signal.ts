/** The life of a long-running command: up until SIGINT/SIGTERM, then a clean stop within a deadline. */
import { CliError, ExitCode } from "../errors.js";
import { untilAborted } from "../io.js";
import type { CommandContext } from "./command.js";

export async function runUntilSignal(context: CommandContext, what: string, stop: () => Promise<void>): Promise<ExitCode> {
  await untilAborted(context.io.interrupt);
  const reason = context.io.interrupt.reason;
  context.io.stderr(`${typeof reason === "string" ? `${reason}: ` : ""}stopping ${what} …`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), context.stopDeadlineMs);
  });
  try {
    const outcome = await Promise.race([stop().then(() => "stopped" as const), deadline]);
    if (outcome === "timeout") {
      throw new CliError("SHUTDOWN_TIMEOUT", `${what} did not stop within ${context.stopDeadlineMs} ms`, ExitCode.failed);
    }
  } finally {
    clearTimeout(timer);
  }
  context.io.stderr(`${what} stopped`);
  return ExitCode.ok;
}
