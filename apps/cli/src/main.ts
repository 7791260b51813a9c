#!/usr/bin/env node
/** The `kodo` binary: run the command line, then exit with its code. */
import { runCli } from "./cli.js";
import { processIo } from "./io.js";

const code = await runCli(process.argv.slice(2), processIo());
// Exit explicitly once stdout is flushed: an idle keep-alive socket must not hold the CLI open.
process.stdout.write("", () => process.exit(code));
