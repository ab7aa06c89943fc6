/**
 * Benchmark of secp256k1 signature verification (Cosmos SIGN_MODE_DIRECT semantics).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-sigverify.js
 *
 * Measures verifies/second for:
 *  - native (node:crypto/OpenSSL) with a warm public-key cache — the typical case of
 *    the same accounts sending many txs;
 *  - native cold — every verify uses a public key not in the cache (import + decompress);
 *  - noble (@noble/curves, pure JS).
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  clearNativeKeyCache,
  verifySecp256k1Native,
  verifySecp256k1Noble,
} from "../src/x/auth/crypto";

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

export async function runSigverifyBench(): Promise<{ nativePerSec: number; noblePerSec: number }> {
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

  console.log(`secp256k1 verify (sha256 of 256-byte msg, low-S, compact sig), ~${SECONDS_PER_RUN}s each:`);
  console.log(`  native (node:crypto/OpenSSL ${process.versions.openssl}), warm key cache: ${fmt(nativePerSec)} verifies/s`);
  console.log(`  native, cold (new pubkey every verify):          ${fmt(nativeColdPerSec)} verifies/s`);
  console.log(`  noble (@noble/curves, pure JS):                  ${fmt(noblePerSec)} verifies/s`);
  console.log(`  native warm / noble: ${(nativePerSec / noblePerSec).toFixed(2)}x`);

  return { nativePerSec, noblePerSec };
}

if (require.main === module) {
  runSigverifyBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
