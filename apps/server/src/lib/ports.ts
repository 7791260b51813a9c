import { createHash, randomBytes } from "node:crypto";

/** Time, as kodo's code sees it. Workflow logic reaches it only through steps. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for tests. */
export function fixedClock(start: Date, stepMs = 0): Clock {
  let current = start.getTime();
  return {
    now: () => {
      const value = new Date(current);
      current += stepMs;
      return value;
    },
  };
}

/** Randomness, as kodo's code sees it: seedable (KODO_RANDOM_SEED), so runs can be replayed. */
export interface Random {
  /** a float in [0, 1) */
  next(): number;
  /** `length` characters of [a-z0-9] */
  token(length: number): string;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** xoshiro128** seeded from sha256(seed): small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: string): Random {
  const digest = createHash("sha256").update(seed).digest();
  const state = new Uint32Array([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]);
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  const nextUint32 = (): number => {
    const s0 = state[0] ?? 0;
    const s1 = state[1] ?? 0;
    const s2 = state[2] ?? 0;
    const s3 = state[3] ?? 0;
    const result = (rotl(Math.imul(s1, 5) >>> 0, 7) * 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    state[1] = (s1 ^ n2) >>> 0;
    state[0] = (s0 ^ n3) >>> 0;
    state[2] = (n2 ^ t) >>> 0;
    state[3] = rotl(n3, 11);
    return result;
  };
  return {
    next: () => nextUint32() / 2 ** 32,
    token: (length) => {
      let out = "";
      for (let i = 0; i < length; i += 1) out += ALPHABET[nextUint32() % ALPHABET.length];
      return out;
    },
  };
}

/** The process's Random: seeded from KODO_RANDOM_SEED when set, else from the OS. */
export function createRandom(seed: string | undefined): Random {
  return seededRandom(seed ?? randomBytes(32).toString("hex"));
}

/**
 * Ids are time-ordered (so lists sort by creation) plus random: `tsk_` + base36 ms + 8 random chars.
 * With a fixed seed and a fixed clock two processes would collide; inserts retry on conflict.
 */
export function newId(prefix: "tsk" | "run" | "apr" | "prp", clock: Clock, random: Random): string {
  return `${prefix}_${clock.now().getTime().toString(36)}${random.token(8)}`;
}
