/**
 * Benchmark of secp256k1 signature verification (Cosmos SIGN_MODE_DIRECT semantics).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-sigverify.js
 *
 * Measures verifies/second for:
 *  - native (node:crypto/OpenSSL) with a warm public-key cache — the typical case of
 *    the same accounts sending many txs;
 *  - native cold — every verify uses a public key not in the cache (import + decompress);
 *  - noble (@noble/curves, pure JS);
 *  - libsecp256k1 as a native addon (package `secp256k1`, prebuilt binaries), when it loads;
 *  - libsecp256k1 compiled to WASM (package `tiny-secp256k1`), when it loads (a comparison only:
 *    the chain does not use it). Put either on NODE_PATH to try it without adding it to the project.
 */
import { createHash } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  clearNativeKeyCache,
  libsecp256k1Available,
  verifySecp256k1Libsecp,
  verifySecp256k1Native,
  verifySecp256k1Noble,
} from "../src/x/auth/crypto";

type TinyVerify = (hash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array, strict: boolean) => boolean;

function loadTinySecp256k1(): TinyVerify | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("tiny-secp256k1") as { verify: TinyVerify }).verify;
  } catch {
    return undefined;
  }
}

interface Case {
  pubkey: Uint8Array;
  message: Uint8Array;
  sig: Uint8Array;
}

const SECONDS_PER_RUN = 2.5;

function makeCases(count: number): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    // Deterministic keys: sha256("bench-key-" + i) is a valid scalar with overwhelming probability.
    const sk = sha256(new TextEncoder().encode(`bench-key-${i}`));
    const pubkey = secp256k1.getPublicKey(sk, true);
    // ~ SignDoc-sized message (a MsgSend SignDoc is ~200-300 bytes).
    const message = new Uint8Array(256);
    for (let j = 0; j < message.length; j++) message[j] = (i * 31 + j * 7) & 0xff;
    const sig = secp256k1.sign(message, sk); // sha256 prehash, low-S, compact 64 bytes
    cases.push({ pubkey, message, sig });
  }
  return cases;
}

/** Runs `fn(i)` repeatedly for ~`seconds` seconds; returns calls per second. */
function timeLoop(seconds: number, fn: (i: number) => boolean, beforeBatch?: (i: number) => void): number {
  const budgetNs = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed = 0n;
  const BATCH = 64;
  while (elapsed < budgetNs) {
    if (beforeBatch) beforeBatch(n);
    for (let k = 0; k < BATCH; k++, n++) {
      if (!fn(n)) throw new Error(`benchmark verify unexpectedly failed at iteration ${n}`);
    }
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString("en-US").padStart(9);
}

export async function runSigverifyBench(): Promise<{ nativePerSec: number; noblePerSec: number; libsecpPerSec?: number }> {
  // Pool size is a multiple of the batch size (64) so cold-run cache clears line up with pool passes.
  const POOL = 1024;
  const cases = makeCases(POOL);

  // Warm-up (JIT, noble precomputes, OpenSSL init).
  for (let i = 0; i < 200; i++) {
    const c = cases[i % POOL];
    verifySecp256k1Native(c.pubkey, c.message, c.sig);
    verifySecp256k1Noble(c.pubkey, c.message, c.sig);
  }

  // Native, warm cache: a small set of accounts (16) each sending many txs.
  const warmSet = cases.slice(0, 16);
  for (const c of warmSet) verifySecp256k1Native(c.pubkey, c.message, c.sig);
  const nativePerSec = timeLoop(SECONDS_PER_RUN, (i) => {
    const c = warmSet[i & 15];
    return verifySecp256k1Native(c.pubkey, c.message, c.sig);
  });

  // Native, cold: clear the cache at the start of every pass over the pool, so each
  // verify within a pass sees a distinct, uncached public key.
  const nativeColdPerSec = timeLoop(
    SECONDS_PER_RUN,
    (i) => {
      const c = cases[i % POOL];
      return verifySecp256k1Native(c.pubkey, c.message, c.sig);
    },
    (i) => {
      if (i % POOL === 0) clearNativeKeyCache();
    },
  );
  clearNativeKeyCache();

  // Noble (no key cache; decompresses the pubkey on every call).
  const noblePerSec = timeLoop(SECONDS_PER_RUN, (i) => {
    const c = cases[i % POOL];
    return verifySecp256k1Noble(c.pubkey, c.message, c.sig);
  });

  // libsecp256k1, native addon: what the chain uses where it loads.
  const libsecpPerSec = libsecp256k1Available()
    ? timeLoop(SECONDS_PER_RUN, (i) => {
      const c = cases[i % POOL];
      return verifySecp256k1Libsecp(c.pubkey, c.message, c.sig);
    })
    : undefined;
  // libsecp256k1 as WASM, with the same sha256 prehash (strict = reject high S).
  const tiny = loadTinySecp256k1();
  const tinyPerSec = tiny
    ? timeLoop(SECONDS_PER_RUN, (i) => {
      const c = cases[i % POOL];
      return tiny(createHash("sha256").update(c.message).digest(), c.pubkey, c.sig, true);
    })
    : undefined;

  console.log(`secp256k1 verify (sha256 of 256-byte msg, low-S, compact sig), ~${SECONDS_PER_RUN}s each:`);
  console.log(`  native (node:crypto/OpenSSL ${process.versions.openssl}), warm key cache: ${fmt(nativePerSec)} verifies/s`);
  console.log(`  native, cold (new pubkey every verify):          ${fmt(nativeColdPerSec)} verifies/s`);
  console.log(`  noble (@noble/curves, pure JS):                  ${fmt(noblePerSec)} verifies/s`);
  const opt = (x: number | undefined, missing: string) => (x === undefined ? `(${missing})` : `${fmt(x)} verifies/s`);
  console.log(`  libsecp256k1 native addon (package secp256k1):   ${opt(libsecpPerSec, "not installed")}`);
  console.log(`  libsecp256k1 WASM (package tiny-secp256k1):      ${opt(tinyPerSec, "not installed")}`);
  console.log(`  native warm / noble: ${(nativePerSec / noblePerSec).toFixed(2)}x`);
  if (libsecpPerSec !== undefined) console.log(`  libsecp256k1 native / OpenSSL warm: ${(libsecpPerSec / nativePerSec).toFixed(2)}x`);
  console.log(`  chain verifier: ${libsecp256k1Available() ? "libsecp256k1 (native addon)" : "OpenSSL (libsecp256k1 not installed)"}`);

  return { nativePerSec, noblePerSec, libsecpPerSec };
}

if (require.main === module) {
  runSigverifyBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
