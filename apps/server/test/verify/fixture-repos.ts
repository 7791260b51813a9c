/**
 * Small repositories for the real runners, written into temp dirs. Each kind is one behaviour:
 * pass, fail, flaky (fails on its first run, passes after: a counter file in the worktree),
 * hang, daemon (starts a detached `sleep 300`), noisy (prints megabytes), syntax (does not load).
 *
 * vitest fixtures get `node_modules/vitest` as a symlink to kodo's copy: the executor only ever
 * runs a repository's own vitest (resolved from the worktree up), so the fixture "has" one.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type FixtureKind = "pass" | "fail" | "flaky" | "hang" | "daemon" | "noisy" | "syntax";

export const KODO_NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../node_modules");

const created: string[] = [];

export function removeFixtures(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  created.push(dir);
  return dir;
}

function write(root: string, files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

/** Megabytes the noisy fixtures print (1 KiB lines). */
const NOISE_MB = 4;

const PYTEST: Record<FixtureKind, string> = {
  pass: "def test_one():\n    assert 1 + 1 == 2\n\ndef test_two():\n    assert 'a'.upper() == 'A'\n",
  fail: "def test_ok():\n    assert True\n\ndef test_broken():\n    assert 1 == 2, 'one is not two'\n",
  flaky:
    "import pathlib\n\ndef test_ok():\n    assert True\n\n" +
    "def test_flaky():\n    counter = pathlib.Path('.flaky-count')\n    n = int(counter.read_text()) + 1 if counter.exists() else 1\n" +
    "    counter.write_text(str(n))\n    assert n > 1, f'first run fails (run {n})'\n",
  hang: "import time\n\ndef test_hangs():\n    while True:\n        time.sleep(1)\n",
  daemon:
    "import subprocess\n\ndef test_daemonizes():\n" +
    "    subprocess.Popen(['sleep', '300'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n" +
    "    assert True\n",
  // the megabytes come from conftest.py, after pytest's own capture has stopped (see below)
  noisy: "def test_noisy():\n    assert True\n",
  syntax: "def test_x(:\n    pass\n",
};

const PYTEST_NOISY_CONFTEST =
  "import sys\n\ndef pytest_unconfigure(config):\n" +
  `    line = 'x' * 1023 + '\\n'\n    for _ in range(${NOISE_MB} * 1024):\n        sys.stdout.write(line)\n    sys.stdout.flush()\n`;

export function pytestRepo(kind: FixtureKind): string {
  const root = tempDir(`kodo-pytest-${kind}-`);
  const files: Record<string, string> = { "pytest.ini": "[pytest]\n", "tests/test_sample.py": PYTEST[kind] };
  if (kind === "noisy") files["conftest.py"] = PYTEST_NOISY_CONFTEST;
  return write(root, files);
}

const NODE: Record<FixtureKind, string> = {
  pass: "import test from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('adds', () => assert.equal(1 + 1, 2));\ntest.describe('strings', () => { test.it('upper', () => assert.equal('a'.toUpperCase(), 'A')); });\n",
  fail: "import test from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('ok', () => assert.ok(true));\ntest.describe('math', () => { test.it('broken', () => assert.equal(1, 2, 'one is not two')); });\n",
  flaky:
    "import test from 'node:test';\nimport assert from 'node:assert/strict';\nimport fs from 'node:fs';\n\ntest('ok', () => assert.ok(true));\n" +
    "test('flaky', () => {\n  const n = (fs.existsSync('.flaky-count') ? Number(fs.readFileSync('.flaky-count', 'utf8')) : 0) + 1;\n" +
    "  fs.writeFileSync('.flaky-count', String(n));\n  assert.ok(n > 1, `first run fails (run ${n})`);\n});\n",
  hang: "import test from 'node:test';\n\ntest('hangs', async () => { await new Promise(() => setInterval(() => {}, 1000)); });\n",
  daemon:
    "import test from 'node:test';\nimport { spawn } from 'node:child_process';\n\n" +
    "test('daemonizes', () => { spawn('sleep', ['300'], { detached: true, stdio: 'ignore' }).unref(); });\n",
  noisy:
    "import test from 'node:test';\n\n" +
    `test('noisy', () => { const line = 'x'.repeat(1023); for (let i = 0; i < ${NOISE_MB} * 1024; i += 1) console.log(line); });\n`,
  syntax: "import test from 'node:test';\n\ntest('x', () => { this is not javascript });\n",
};

export function nodeRepo(kind: FixtureKind): string {
  const root = tempDir(`kodo-node-${kind}-`);
  return write(root, {
    "package.json": JSON.stringify({ name: `fixture-${kind}`, type: "module", scripts: { test: "node --test" } }),
    "test/sample.test.js": NODE[kind],
  });
}

const VITEST: Partial<Record<FixtureKind, string>> = {
  pass: "import { describe, expect, it, test } from 'vitest';\n\ntest('adds', () => expect(1 + 1).toBe(2));\ndescribe('strings', () => { it('upper', () => expect('a'.toUpperCase()).toBe('A')); });\n",
  fail: "import { describe, expect, it, test } from 'vitest';\n\ntest('ok', () => expect(true).toBe(true));\ndescribe('math', () => { it('broken', () => expect(1).toBe(2)); });\n",
  flaky:
    "import { expect, test } from 'vitest';\nimport fs from 'node:fs';\n\ntest('ok', () => expect(true).toBe(true));\n" +
    "test('flaky', () => {\n  const n = (fs.existsSync('.flaky-count') ? Number(fs.readFileSync('.flaky-count', 'utf8')) : 0) + 1;\n" +
    "  fs.writeFileSync('.flaky-count', String(n));\n  expect(n).toBeGreaterThan(1);\n});\n",
  syntax: "import { test } from 'vitest';\n\ntest('x', () => { this is not typescript });\n",
};

export function vitestRepo(kind: "pass" | "fail" | "flaky" | "syntax"): string {
  const root = tempDir(`kodo-vitest-${kind}-`);
  write(root, {
    "package.json": JSON.stringify({ name: `fixture-${kind}`, type: "module", devDependencies: { vitest: "*" } }),
    "vitest.config.mjs": "export default { test: { include: ['test/**/*.test.ts'] } };\n",
    "test/sample.test.ts": VITEST[kind] ?? "",
  });
  // a real node_modules (vite writes node_modules/.vite-temp when it bundles the config) whose
  // vitest is kodo's copy; vitest's own dependencies resolve from its real path
  mkdirSync(path.join(root, "node_modules"));
  symlinkSync(path.join(KODO_NODE_MODULES, "vitest"), path.join(root, "node_modules", "vitest"));
  return root;
}

const GO: Partial<Record<FixtureKind, string>> = {
  pass: "package sample\n\nimport \"testing\"\n\nfunc TestAdds(t *testing.T) {\n\tif 1+1 != 2 {\n\t\tt.Fatal(\"math\")\n\t}\n}\n\nfunc TestSub(t *testing.T) {\n\tt.Run(\"a b\", func(t *testing.T) {})\n}\n",
  fail: "package sample\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n\nfunc TestBroken(t *testing.T) {\n\tt.Fatalf(\"one is not two\")\n}\n",
  flaky:
    "package sample\n\nimport (\n\t\"os\"\n\t\"strconv\"\n\t\"testing\"\n)\n\nfunc TestOK(t *testing.T) {}\n\n" +
    "func TestFlaky(t *testing.T) {\n\tdata, _ := os.ReadFile(\".flaky-count\")\n\tn, _ := strconv.Atoi(string(data))\n\tn++\n" +
    "\tos.WriteFile(\".flaky-count\", []byte(strconv.Itoa(n)), 0o644)\n\tif n == 1 {\n\t\tt.Fatalf(\"first run fails\")\n\t}\n}\n",
  syntax: "package sample\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { this is not go }\n",
};

export function goRepo(kind: "pass" | "fail" | "flaky" | "syntax"): string {
  const root = tempDir(`kodo-go-${kind}-`);
  return write(root, { "go.mod": "module example.com/sample\n\ngo 1.19\n", "sample_test.go": GO[kind] ?? "" });
}
