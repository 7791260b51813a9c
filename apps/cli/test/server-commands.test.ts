import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import type { RunningModel, RunningServer, ServerApi } from "../src/server-api.js";
import { memoryIo } from "./support/memory-io.js";

interface Calls {
  startKodo: unknown[];
  stopped: number;
  scripted: unknown[];
  demo: unknown[];
}

function fakeServer(options: { stop?: () => Promise<void>; demoOk?: boolean } = {}): { api: ServerApi; calls: Calls } {
  const calls: Calls = { startKodo: [], stopped: 0, scripted: [], demo: [] };
  const api: ServerApi = {
    async startKodo({ log, ...rest }): Promise<RunningServer> {
      calls.startKodo.push(rest);
      log("database ready (embedded)");
      return {
        url: `http://${rest.host}:${rest.port === 0 ? 45678 : rest.port}`,
        stop: async () => {
          calls.stopped += 1;
          await options.stop?.();
        },
      };
    },
    async runDemo({ json, log }) {
      calls.demo.push({ json });
      log("demo step");
      return { ok: options.demoOk ?? true, home: "/tmp/kodo-demo" };
    },
    async startScriptedModel(request): Promise<RunningModel> {
      calls.scripted.push(request);
      return { url: `http://127.0.0.1:${request.port || 40001}/v1`, port: request.port || 40001, model: "scripted-1", close: async () => void (calls.stopped += 1) };
    },
  };
  return { api, calls };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("serve, model serve and demo (with a fake @kodo/server)", { timeout: 15_000 }, () => {
  it("serve starts kodo with the defaults, announces the URL, and stops cleanly on a signal", async () => {
    const { api, calls } = fakeServer();
    const io = memoryIo({ KODO_HOME: "/tmp/h" });
    const serving = runCli(["serve"], io, { server: api });
    await tick();
    expect(calls.startKodo).toEqual([{ env: { KODO_HOME: "/tmp/h" }, host: "127.0.0.1", port: 7433, worker: true }]);
    expect(io.out).toEqual(["database ready (embedded)", "kodo listening on http://127.0.0.1:7433", "press Ctrl-C to stop"]);
    expect(calls.stopped).toBe(0);
    io.interruptNow();
    expect(await serving).toBe(0);
    expect(calls.stopped).toBe(1);
    expect(io.err).toEqual(["SIGINT: stopping kodo …", "kodo stopped"]);
  });

  it("serve --json prints only {url}; server logs go to stderr", async () => {
    const { api, calls } = fakeServer();
    const io = memoryIo();
    const serving = runCli(["serve", "--port", "0", "--no-worker", "--json"], io, { server: api });
    await tick();
    expect(calls.startKodo).toEqual([{ env: {}, host: "127.0.0.1", port: 0, worker: false }]);
    expect(io.json()).toEqual({ url: "http://127.0.0.1:45678" });
    expect(io.err).toEqual(["database ready (embedded)"]);
    io.interruptNow();
    expect(await serving).toBe(0);
  });

  it("serve exits 1 when kodo does not stop within the deadline (stdout keeps its one JSON document)", async () => {
    const { api } = fakeServer({ stop: () => new Promise(() => undefined) });
    const io = memoryIo();
    const serving = runCli(["serve", "--json"], io, { server: api, stopDeadlineMs: 100 });
    await tick();
    io.interruptNow();
    expect(await serving).toBe(1);
    expect(io.json()).toEqual({ url: "http://127.0.0.1:7433" });
    expect(io.err.at(-1)).toBe("kodo: SHUTDOWN_TIMEOUT: kodo did not stop within 100 ms");
  });

  it("serve maps a start failure with a code to its exit code", async () => {
    const api: ServerApi = {
      ...fakeServer().api,
      startKodo: () => Promise.reject(Object.assign(new Error("no model is configured"), { code: "CONFIG_INVALID" })),
    };
    const io = memoryIo();
    expect(await runCli(["serve"], io, { server: api })).toBe(4);
    expect(io.err).toEqual(["kodo: CONFIG_INVALID: no model is configured"]);
    expect(await runCli(["serve", "--port", "70000"], io, { server: api })).toBe(2);
  });

  it("model serve prints the base URL and the env to set, then closes on a signal", async () => {
    const { api, calls } = fakeServer();
    const io = memoryIo({}, "/scripts");
    const serving = runCli(["model", "serve", "--script", "demo.json", "--json"], io, { server: api });
    await tick();
    expect(calls.scripted).toEqual([{ scriptFile: "/scripts/demo.json", host: "127.0.0.1", port: 0 }]);
    expect(io.json()).toEqual({
      url: "http://127.0.0.1:40001/v1",
      port: 40001,
      model: "scripted-1",
      env: { KODO_MODEL_BASE_URL: "http://127.0.0.1:40001/v1", KODO_MODEL: "scripted-1" },
    });
    io.interruptNow();
    expect(await serving).toBe(0);
    expect(calls.stopped).toBe(1);
    expect(await runCli(["model", "serve"], memoryIo(), { server: api })).toBe(2);
  });

  it("demo exits by its outcome; --json prints the result and keeps progress off stdout", async () => {
    const ok = fakeServer();
    const io = memoryIo();
    expect(await runCli(["demo"], io, { server: ok.api })).toBe(0);
    expect(io.out).toEqual(["demo step"]);
    const failed = fakeServer({ demoOk: false });
    const jsonIo = memoryIo();
    expect(await runCli(["demo", "--json"], jsonIo, { server: failed.api })).toBe(1);
    expect(jsonIo.json()).toEqual({ ok: false, home: "/tmp/kodo-demo" });
    expect(jsonIo.err).toEqual(["demo step"]);
    expect(failed.calls.demo).toEqual([{ json: true }]);
  });
});
