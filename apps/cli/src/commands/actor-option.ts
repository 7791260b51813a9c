/** `--as NAME`: the approver a command speaks for, sent as `X-Kodo-Actor` (declared, not authenticated). */
import { ActorName } from "@kodo/contracts";
import { UsageError, type Args, type OptionSpec } from "../args.js";

export const AS_OPTION: OptionSpec = {
  type: "string",
  value: "NAME",
  description: "act as this approver (sent as X-Kodo-Actor; with a shared token the name is declared, not authenticated)",
};

/** `{actor}` for the client when `--as` was given and is a valid name; a bad name is a usage error. */
export function actorOption(args: Args): { actor?: string } {
  const name = args.string("as");
  if (name === undefined) return {};
  const parsed = ActorName.safeParse(name);
  if (!parsed.success) throw new UsageError(`--as: ${parsed.error.issues[0]?.message ?? "invalid name"}`, args.spec);
  return { actor: parsed.data };
}
