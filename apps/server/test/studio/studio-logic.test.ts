/**
 * Studio's pure pieces, without a browser: the unified-diff parser of the diff viewer, the SSE
 * parser of the event stream, reading the token out of a link, the name Studio sends as
 * X-Kodo-Actor, and a plan quorum's tally.
 */
import { describe, expect, it } from "vitest";
import { fileLabel, parseUnifiedDiff } from "../../../studio/src/lib/diff.js";
import { SseParser } from "@kodo/contracts";
import { tokenFromFragment, tokenFromInput } from "../../../studio/src/api/token.js";
import { parseActorName } from "../../../studio/src/api/actor.js";
import { quorumTally } from "../../../studio/src/lib/quorum.js";

const TOKEN = "0123456789abcdef".repeat(4);

describe("parseUnifiedDiff", () => {
  it("numbers the lines of each hunk and counts additions and deletions per file", () => {
    const patch = [
      "diff --git a/src/a.js b/src/a.js",
      "index 1111111..2222222 100644",
      "--- a/src/a.js",
      "+++ b/src/a.js",
      "@@ -1,3 +1,3 @@ export function a() {",
      " one",
      "-two",
      "+TWO",
      " three",
      "@@ -10,2 +10,3 @@",
      " ten",
      "+ten and a half",
      " eleven",
      "\\ No newline at end of file",
      "diff --git a/new.txt b/new.txt",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/new.txt",
      "@@ -0,0 +1 @@",
      "+hello",
      "diff --git a/gone.txt b/gone.txt",
      "deleted file mode 100644",
      "--- a/gone.txt",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-bye",
      "diff --git a/old name.txt b/new name.txt",
      "similarity index 100%",
      "rename from old name.txt",
      "rename to new name.txt",
      "diff --git a/logo.png b/logo.png",
      "Binary files a/logo.png and b/logo.png differ",
      "",
    ].join("\n");
    const files = parseUnifiedDiff(patch);
    expect(files.map((file) => [fileLabel(file), file.status, file.additions, file.deletions, file.binary])).toEqual([
      ["src/a.js", "modified", 2, 1, false],
      ["new.txt", "added", 1, 0, false],
      ["gone.txt", "deleted", 0, 1, false],
      ["old name.txt → new name.txt", "renamed", 0, 0, false],
      ["logo.png", "modified", 0, 0, true],
    ]);
    const [first] = files;
    expect(first?.hunks.map((hunk) => hunk.lines.map((line) => [line.kind, line.oldNumber, line.newNumber, line.text]))).toEqual([
      [
        ["context", 1, 1, "one"],
        ["del", 2, null, "two"],
        ["add", null, 2, "TWO"],
        ["context", 3, 3, "three"],
      ],
      [
        ["context", 10, 10, "ten"],
        ["add", null, 11, "ten and a half"],
        ["context", 11, 12, "eleven"],
        ["note", null, null, "No newline at end of file"],
      ],
    ]);
    // a removed line that looks like a header stays a removed line
    const tricky = parseUnifiedDiff(["diff --git a/x b/x", "--- a/x", "+++ b/x", "@@ -1,2 +1 @@", "--- not a header", " kept", ""].join("\n"));
    expect(tricky[0]?.hunks[0]?.lines.map((line) => line.kind)).toEqual(["del", "context"]);
    expect(parseUnifiedDiff("")).toEqual([]);
  });
});

describe("SseParser (shared with the CLI, from @kodo/contracts)", () => {
  it("dispatches whole frames only, across any chunking and line ending, ignoring comments", () => {
    const parser = new SseParser();
    const stream = 'event: ready\r\ndata: {"lastEventId":4}\r\n\r\n: heartbeat\n\nid: 5\nevent: task.created\ndata: {"a":\ndata: 1}\n\nretry: 900\rid: 6\rdata: x\r\r\n'; // a lone \r at the very end may be half of \r\n: held until more comes
    const frames = [];
    for (let index = 0; index < stream.length; index += 3) frames.push(...parser.push(stream.slice(index, index + 3)));
    expect(frames).toEqual([
      { id: undefined, lastEventId: undefined, event: "ready", data: '{"lastEventId":4}' },
      { id: "5", lastEventId: "5", event: "task.created", data: '{"a":\n1}' },
      { id: "6", lastEventId: "6", event: "message", data: "x" },
    ]);
    expect(parser.retryMs).toBe(900);
    // a frame cut off mid-way is not dispatched
    expect(new SseParser().push("id: 7\ndata: half")).toEqual([]);
  });
});

describe("the token in a link", () => {
  it("is read from the fragment or a pasted link, and nothing else passes for one", () => {
    expect(tokenFromFragment(`#token=${TOKEN}`)).toBe(TOKEN);
    expect(tokenFromFragment(`#other=1&token=${TOKEN.toUpperCase()}`)).toBe(TOKEN);
    expect(tokenFromFragment("#token=abc")).toBeUndefined();
    expect(tokenFromFragment("")).toBeUndefined();
    expect(tokenFromInput(`http://127.0.0.1:7433/#token=${TOKEN}`)).toBe(TOKEN);
    expect(tokenFromInput(` ${TOKEN} `)).toBe(TOKEN);
    expect(tokenFromInput("http://127.0.0.1:7433/")).toBeUndefined();
    expect(tokenFromInput(`http://127.0.0.1:7433/?token=${TOKEN}`)).toBeUndefined();
  });
});

describe("who you are (X-Kodo-Actor)", () => {
  it("takes what the server takes, trimmed; empty is not set; anything else says the rule", () => {
    expect(parseActorName(" alice ")).toEqual({ name: "alice" });
    expect(parseActorName("bob.smith@example-1_x")).toEqual({ name: "bob.smith@example-1_x" });
    expect(parseActorName("a".repeat(100))).toEqual({ name: "a".repeat(100) });
    expect(parseActorName("  ")).toEqual({ name: undefined });
    for (const bad of ["alice smith", "a".repeat(101), "ålice", "a/b", "a:b"]) expect(parseActorName(bad)).toEqual({ error: "A name is 1–100 characters of A-Z a-z 0-9 . _ @ - (no spaces)." });
  });
});

describe("a plan quorum's tally", () => {
  const vote = (approver: string, choice: "approve" | "reject") => ({ approver, vote: choice, comment: null, votedAt: "2026-01-01T00:00:00.000Z" });
  it("counts approvals against the required number, with names, and the rejections", () => {
    expect(quorumTally({ required: 2, votes: [] })).toBe("0 of 2 approvals");
    expect(quorumTally({ required: 2, votes: [vote("alice", "approve")] })).toBe("1 of 2 approvals: alice");
    expect(quorumTally({ required: 3, votes: [vote("alice", "approve"), vote("bob", "reject"), vote("carol", "approve")] })).toBe("2 of 3 approvals: alice, carol · 1 rejection: bob");
    expect(quorumTally({ required: 1, votes: [vote("bob", "reject"), vote("dan", "reject")] })).toBe("0 of 1 approval · 2 rejections: bob, dan");
  });
});
