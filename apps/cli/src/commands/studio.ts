import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import path from "node:path";
import { CliError, ExitCode } from "../errors.js";
import { KodoClient } from "../client.js";
import { resolveServer, resolveToken, serverFilePath } from "../server-url.js";
import type { Command } from "./command.js";

/** The board's address with the token in the fragment, which a browser never sends to a server. */
export function studioUrl(serverUrl: string, token: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/#token=${encodeURIComponent(token)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A 0600 page in the kodo home that forwards to the board: the browser is started with this
 * file's path, so the token never appears in a process's command line (as Jupyter does it).
 */
async function writeOpener(home: string, url: string): Promise<string> {
  const file = path.join(home, "studio-open.html");
  const safe = escapeHtml(url);
  const handle = await open(file, "w", 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(
      `<!doctype html>\n<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${safe}"><title>kodo Studio</title></head>\n<body><p><a href="${safe}">Open kodo Studio</a></p></body></html>\n`,
    );
  } finally {
    await handle.close();
  }
  return file;
}

/** Starts `xdg-open target` detached; resolves with the failure's message, or undefined once it runs. */
function xdgOpen(target: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn("xdg-open", [target], { detached: true, stdio: "ignore", env });
    child.once("error", (error) => resolve(error.message));
    child.once("spawn", () => {
      child.unref();
      resolve(undefined);
    });
  });
}

export const studio: Command = {
  spec: {
    name: "studio",
    group: "server",
    summary: "Print the address of Studio, the web board, of the running kodo (the API token is in its #fragment); --open opens it in a browser.",
    synopsis: "[--open]",
    positionals: [],
    options: {
      open: { type: "boolean", description: "open it with xdg-open (through a 0600 page in the kodo home, so the token is not on a command line)" },
    },
    client: true,
    examples: ["kodo studio", "kodo studio --open", "KODO_HOME=/tmp/kodo kodo studio --json"],
  },
  async run(context) {
    const { args, io } = context;
    const location = await resolveServer(args.string("url"), io.env);
    const token = await resolveToken(io.env);
    if (token === undefined) {
      throw new CliError("TOKEN_NOT_FOUND", `no API token: neither KODO_TOKEN nor ${path.join(path.dirname(serverFilePath(io.env)), "token")} (kodo serve writes it)`, ExitCode.unavailable);
    }
    // the link is only worth printing if this server takes this token
    await new KodoClient({ baseUrl: location.url, source: location.source, token, signal: io.interrupt }).listTasks({ limit: 1 });
    const url = studioUrl(location.url, token);
    let opened: boolean | undefined;
    if (args.flag("open")) {
      const opener = await writeOpener(path.dirname(serverFilePath(io.env)), url);
      const failure = await xdgOpen(opener, io.env);
      opened = failure === undefined;
      if (failure !== undefined) io.stderr(`kodo: could not start a browser (xdg-open: ${failure}); open the address yourself`);
    }
    if (context.json) context.printJson({ url, ...(opened === undefined ? {} : { opened }) });
    else {
      io.stdout(url);
      io.stdout("the token is in the part after #: your browser keeps it, it is never sent to a server; do not share the link");
    }
    return ExitCode.ok;
  },
};
