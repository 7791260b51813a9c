// Glob patterns for rule conditions, matched against the whole argument: `*` is any run of
// characters but `/`; `**` any run including `/`, and `**/` zero or more whole directories (so
// `src/**/*.ts` matches `src/a.ts`); `?` one character but `/`; `[abc]`/`[!abc]` one character
// of (not of) a set; everything else is literal, and `\` escapes the next character.

const SPECIAL = /[.*+?^${}()|[\]\\/]/g;

export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] ?? "";
    if (char === "\\" && index + 1 < glob.length) {
      index += 1;
      source += (glob[index] ?? "").replace(SPECIAL, "\\$&");
    } else if (char === "*") {
      if (glob[index + 1] === "*" && glob[index + 2] === "/") {
        index += 2;
        source += "(?:[\\s\\S]*/)?";
      } else if (glob[index + 1] === "*") {
        index += 1;
        source += "[\\s\\S]*";
      } else {
        source += "[^/]*";
      }
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const close = glob.indexOf("]", index + 2);
      if (close === -1) {
        source += "\\[";
        continue;
      }
      const body = glob.slice(index + 1, close);
      const negated = body.startsWith("!");
      const members = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&");
      source += negated ? `[^${members}/]` : `[${members}]`;
      index = close;
    } else {
      source += char.replace(SPECIAL, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "u");
}

export function matchesGlob(value: string, glob: string): boolean {
  return globToRegExp(glob).test(value);
}
