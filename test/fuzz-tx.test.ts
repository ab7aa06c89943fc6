/**
 * Property test: random and mutated tx bytes fed to an in-process PoiApp (real LevelDB): bank txs
 * (the first test), and every poi message type with the verdict aggregates at the head of blocks
 * (the second; see "The poi messages" below). Generators: test/helpers/fuzz-*.ts.
 *
 *   npm run build && npx mocha dist/test/fuzz-tx.test.js                  # the suite's short run
 *   npm run fuzz                                                           # the long campaign (>= 100,000 inputs)
 *   FUZZ_SEED=0x1234abcd FUZZ_INPUTS=50000 FUZZ_POI_INPUTS=50000 npx mocha dist/test/fuzz-tx.test.js
 *
 * Everything derives from one seed (mulberry32 below), including the signed seed txs (RFC 6979
 * signatures are deterministic), so a failure reproduces from the seed printed at the start.
 *
 * What is asserted, for every input:
 *  - CheckTx (through `dispatch`, the server's own path) never throws, so the server would never
 *    answer with `Response.exception`; the response encodes as protobuf; its code is a non-negative
 *    integer, never 1 (`internal error`: a non-AppError escaped a handler, i.e. a bug); a refusal
 *    has codespace "sdk" and a log; gas_used <= gas_wanted.
 *  - CheckTx accepts only txs that carry, byte for byte, the (body_bytes, auth_info_bytes, signature)
 *    of a tx we signed ourselves with the right chain id and account number, from a funded account,
 *    at a sequence not below the committed one, paying the node's minimum gas price, and that
 *    can pay its message; and never the same (account, sequence) twice before a commit.
 *  - FinalizeBlock over batches of these inputs never throws and returns exactly one result per tx,
 *    each with the same code checks as above.
 *
 * State: why a model and a reference app rather than "app hash unchanged".
 *  The blockinfo module writes every block (the last block's height and time), so
 *  the app hash moves with every block, junk or not. And "CheckTx refused it" is not a sound test
 *  for "nothing was charged": CheckTx also refuses a tx whose *messages* would fail (say, a send of
 *  more than the balance), and such a tx, once in a block, passes the ante handler and pays its fee
 *  and sequence, as in the Cosmos SDK. So instead:
 *  - A tx can only get past the ante handler if its signature verifies over
 *    SignDoc(body_bytes, auth_info_bytes, chain_id, account_number) for the signer's key. Every key
 *    that holds an account is ours, and secp256k1 signatures cannot be forged (the app also refuses
 *    high-S, so there is one valid encoding per signature), so only a tx whose decoded triple is one
 *    we signed can ever change state. Every other input is "junk" and must change nothing.
 *  - For our own signed txs (valid ones, stale sequences, wrong chain id / account number, unknown
 *    signer, overspends, under-priced, tiny gas, expired, foreign fee denom, ...) a small model of
 *    balances and sequences predicts the FinalizeBlock code exactly (0, or the ante handler's refusal
 *    code, or 5 for a failed send that still pays its fee) and the state change.
 *  - A reference PoiApp is fed the same blocks (same header) holding only the txs the model says get
 *    past the ante handler. After every block both apps must report the same app hash: the whole
 *    Merkle state (auth, bank, blockinfo, everything) must be what the model's txs alone produce,
 *    so junk changed nothing, not even a sequence or an account number counter.
 *  - Every other block holds junk only (our txs that would pass the ante handler are left out):
 *    then the committed key/value state outside "blockinfo/" must be byte-identical to before, and
 *    blockinfo may only have changed "last".
 *  - After every block, the gRPC queries AllBalances (every tracked address, incl. the fee
 *    collector), Account (sequence, account number) and TotalSupply must match the model.
 *
 * The poi messages (second test): inputs are seeded mutations of valid MsgRegisterModel,
 * MsgCreateDataset, MsgUploadDatasetChunk, MsgSubmitInferenceTask, MsgClaimTask, MsgSubmitResult,
 * MsgSubmitTrainingTask, MsgCommitTraining and MsgRevealCheckpoint built from the chain's state
 * (fields or bytes mutated and re-signed, signed wrongly, tx bytes mutated, replays), named malformed
 * training messages, and every block opens with a valid, invalid or mutated verdict aggregate (whose
 * extensions request segments of training attempts).
 *  - CheckTx, ProcessProposal, VerifyVoteExtension and FinalizeBlock never throw (through `dispatch`)
 *    and never answer with code 1; a refusal's log is at most MAX_LOG_CHARS; CheckTx accepts only our
 *    own signed txs, signed right; a malformed training message that no state allows never succeeds.
 *  - ProcessProposal accepts exactly the blocks whose first tx is an aggregate that FinalizeBlock
 *    applies (code 0) and that hold no second one; valid aggregates are accepted, the known-bad
 *    kinds rejected.
 *  - Our txs whose messages decode get past the ante handler exactly as the ante checks predict (and
 *    with the predicted code when refused); junk never does.
 *  - A reference app gets the same blocks with only what may change state: the aggregate if it was
 *    applied, our txs that got past the ante handler, and, for each of those whose messages failed,
 *    a twin with the same signer, sequence and fee whose message fails without touching anything.
 *    Both app hashes must agree after every block: a refused tx changed nothing at all, and a failed
 *    message nothing but its fee and sequence.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import { TxRaw, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { Request, Response, ResponseProcessProposal_ProposalStatus } from "cosmjs-types/tendermint/abci/types";
import { QueryAccountRequest, QueryAccountResponse } from "cosmjs-types/cosmos/auth/v1beta1/query";
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeCosmoshubPath, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { Bip39, sha256 } from "@cosmjs/crypto";
import { fromBase64, toBech32 } from "@cosmjs/encoding";
import { PoiApp } from "../src/app/app";
import { dispatch } from "../src/abci/server";
import { isAggregateTx } from "../src/x/poi/verdicts";
import { tmpHome } from "./helpers/chain";
import { MAX_LOG_CHARS } from "../src/app/errors";
import { blockRequest, bump, dumpState, fmtCounts, GENESIS_TIME, grpc, hex, parseSeed, Rng } from "./helpers/fuzz-gen";
import {
  applyCharged, CHAIN_ID, checkBankState, CODE, DENOM, FEE, FEE_COLLECTOR, Fuzzer, GAS, MAX_TX_BYTES, MIN_GAS_PRICES, Model, POOR, predict, requiredFee, RICH,
  type Candidate, type Prediction, type SignedTx,
} from "./helpers/fuzz-bank";
import { PoiWorld } from "./helpers/fuzz-poi-msgs";
import { acceptable, AnteModel, blockHeader, charged, openPoiFuzzChain, PoiFuzzer, PoiStats, POI_MAX_TX_BYTES } from "./helpers/fuzz-poi";

interface Stats {
  inputs: number;
  gens: Map<string, number>;
  checkCodes: Map<number, number>;
  blockCodes: Map<number, number>;
  checkAccepted: number;
  acceptedNotCanonical: number;
  charged: number;
  chargedFailed: number;
  junkInBlocks: number;
  blocks: number;
  junkOnlyBlocks: number;
}


describe("fuzz: random and mutated txs against PoiApp (in process)", function () {
  const seed = parseSeed(process.env.FUZZ_SEED);
  const target = Number(process.env.FUZZ_INPUTS ?? 5_000);
  const poiTarget = Number(process.env.FUZZ_POI_INPUTS ?? 3_000);
  const dirs: string[] = [];
  const total = { inputs: 0, ms: 0 };
  after(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    if (total.inputs) console.log(`    fuzz-tx: ${total.inputs} inputs in all (bank and poi) in ${(total.ms / 1000).toFixed(1)} s`);
  });

  it(`${target} inputs: no throw, no exception, no internal error; only our signed txs are accepted or charged; junk changes no state`, async function () {
    console.log(`    fuzz-tx: seed=0x${seed.toString(16)} inputs=${target} (reproduce with FUZZ_SEED=0x${seed.toString(16)} FUZZ_INPUTS=${target})`);
    const started = Date.now();
    const rng = new Rng(seed);

    // Keys: 6 accounts of one HD wallet (fixed mnemonic from the seed), plus 3 plain recipient addresses.
    const mnemonic = Bip39.encode(sha256(Buffer.from(`poi fuzz ${seed}`))).toString();
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "poi", hdPaths: [0, 1, 2, 3, 4, 5].map((i) => makeCosmoshubPath(i)) });
    const keys = await wallet.getAccounts();
    const pubkeys = new Map(keys.map((k) => [k.address, k.pubkey]));
    const rich = keys.slice(0, 4).map((k) => k.address);
    const poor = keys[4].address;
    const stranger = keys[5].address;
    const recipients = [...Array.from({ length: 3 }, () => toBech32("poi", rng.bytes(20))), toBech32("poi", rng.bytes(32)), ...rich];
    const genesisBalances = [...rich.map((a) => [a, RICH] as const), [poor, POOR] as const];
    const totalSupply = genesisBalances.reduce((s, [, v]) => s + v, 0n);
    const appState = {
      auth: { params: { max_tx_bytes: String(MAX_TX_BYTES) } },
      bank: { balances: genesisBalances.map(([address, amount]) => ({ address, coins: [{ denom: DENOM, amount: amount.toString() }] })) },
    };

    const open = async (name: string) => { const d = tmpHome(name); dirs.push(d); return PoiApp.open(d, { minGasPrices: MIN_GAS_PRICES, maxTxBytes: MAX_TX_BYTES }); };
    const app = await open("fuzz-app");
    const ref = await open("fuzz-ref");
    const init = { time: { seconds: GENESIS_TIME, nanos: 0 }, chainId: CHAIN_ID, validators: [], appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n };
    const h0 = await app.initChain(Request.fromPartial({ initChain: init }).initChain!);
    const h0ref = await ref.initChain(Request.fromPartial({ initChain: init }).initChain!);
    assert.equal(hex(h0.appHash!), hex(h0ref.appHash!));

    let model = new Model();
    for (const [a, v] of genesisBalances) model.balances.set(a, v);
    model.balances.set(FEE_COLLECTOR, 0n);
    for (const a of recipients) if (!model.balances.has(a)) model.balances.set(a, 0n);
    let height = 0n;
    const fuzzer = new Fuzzer(rng, wallet, pubkeys, [...rich, poor], stranger, recipients, () => model, () => height + 1n);

    const stats: Stats = {
      inputs: 0, gens: new Map(), checkCodes: new Map(), blockCodes: new Map(), checkAccepted: 0, acceptedNotCanonical: 0,
      charged: 0, chargedFailed: 0, junkInBlocks: 0, blocks: 0, junkOnlyBlocks: 0,
    };
    const where = (what: string, c: Candidate) => `${what} [seed=0x${seed.toString(16)} height=${height + 1n} gen=${c.gen}] input=${hex(c.bytes)}`;

    const checkModel = () => checkBankState(app, model, fuzzer.stranger, totalSupply, `after height ${height} [seed=0x${seed.toString(16)}]`);

    // Genesis is committed with block 1: run an empty block first so queries see it.
    for (const a of [app, ref]) { await a.finalizeBlock(blockRequest(1n, []).finalizeBlock!); await a.commit(); }
    height = 1n;
    for (const addr of [...rich, poor]) {
      const res = await grpc(app, "/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest.encode({ address: addr }).finish(), QueryAccountResponse.decode);
      const acc = BaseAccount.decode(res.account!.value);
      model.accounts.set(addr, { accountNumber: acc.accountNumber, sequence: acc.sequence });
      assert.equal(acc.sequence, 0n);
    }
    await checkModel();

    // Seed txs: a few valid ones per account, and one of every re-signed kind.
    for (const a of [...rich, poor]) await fuzzer.valid(a);

    for (let round = 0; stats.inputs < target; round++) {
      const n = Math.min(target - stats.inputs, rng.range(40, 260));
      const candidates: Candidate[] = [];
      for (let i = 0; i < n; i++) {
        const c = await fuzzer.next();
        candidates.push(c);
        bump(stats.gens, c.gen);
      }
      stats.inputs += n;

      // -- CheckTx, as CometBFT's mempool connection would send it.
      const acceptedThisEpoch = new Set<string>();
      for (const c of candidates) {
        let res: Response;
        try {
          res = await dispatch(app, Request.fromPartial({ checkTx: { tx: c.bytes, type: 0 } }));
        } catch (err) {
          assert.fail(where(`CheckTx threw ${(err as Error).stack}`, c));
        }
        assert.doesNotThrow(() => Response.encode(res).finish(), where("CheckTx response does not encode", c));
        const ct = res.checkTx;
        assert.ok(ct, where("no checkTx in the response", c));
        assert.ok(Number.isInteger(ct.code) && ct.code >= 0, where(`CheckTx code ${ct.code} is not a non-negative integer`, c));
        assert.notEqual(ct.code, CODE.internal, where(`CheckTx internal error: ${ct.log}`, c));
        assert.ok(ct.gasUsed >= 0n && ct.gasUsed <= ct.gasWanted, where(`gas used ${ct.gasUsed} > wanted ${ct.gasWanted}`, c));
        bump(stats.checkCodes, ct.code);
        if (ct.code !== 0) {
          assert.equal(ct.codespace, "sdk", where("refusal without codespace", c));
          assert.ok(ct.log.length > 0, where("refusal without a log", c));
          continue;
        }
        // Accepted: must be, byte for byte in body / auth_info / signature, a tx we signed correctly.
        stats.checkAccepted++;
        const s = fuzzer.classify(c.bytes);
        assert.ok(s, where("CheckTx accepted a tx we never signed", c));
        if (hex(s.bytes) !== hex(c.bytes)) stats.acceptedNotCanonical++;
        const acc = model.accounts.get(s.from);
        assert.ok(acc && s.chainId === CHAIN_ID && s.accountNumber === acc.accountNumber, where(`CheckTx accepted a tx signed for chain "${s.chainId}" / account number ${s.accountNumber} (${s.kind})`, c));
        assert.ok(s.feeDenom === DENOM && s.fee >= requiredFee(s.gas), where(`CheckTx accepted fee ${s.fee}${s.feeDenom} for gas ${s.gas}`, c));
        assert.ok(s.gas >= 10n * BigInt(c.bytes.length), where("CheckTx accepted a tx whose gas cannot pay its size", c));
        assert.ok(s.timeoutHeight === 0n || s.timeoutHeight >= height + 1n, where("CheckTx accepted an expired tx", c));
        assert.ok(s.amountDenom === DENOM && s.amount + s.fee <= model.balance(s.from), where(`CheckTx accepted a send it cannot pay (${s.kind})`, c));
        assert.ok(s.sequence >= acc.sequence, where(`CheckTx accepted sequence ${s.sequence} below the committed ${acc.sequence}`, c));
        const id = `${s.from}/${s.sequence}`;
        assert.ok(!acceptedThisEpoch.has(id), where(`CheckTx accepted ${id} twice before a commit`, c));
        acceptedThisEpoch.add(id);
      }

      // -- One block: every other round junk only, else everything in generation order.
      const junkOnly = round % 2 === 0;
      const next = height + 1n;
      const blockModel = model.clone();
      const txs: Uint8Array[] = [];
      const expected: Array<{ c: Candidate; s?: SignedTx; p?: Prediction }> = [];
      const refTxs: Uint8Array[] = [];
      for (const c of candidates) {
        const s = fuzzer.classify(c.bytes);
        const p = s ? predict(blockModel, s, c.bytes.length, next) : undefined;
        if (s && p!.charged) {
          if (junkOnly) continue;
          applyCharged(blockModel, s, p!);
          refTxs.push(c.bytes);
        }
        txs.push(c.bytes);
        expected.push({ c, s, p });
      }
      const before = junkOnly ? await dumpState(app) : undefined;
      let fb: Response;
      try {
        fb = await dispatch(app, blockRequest(next, txs));
      } catch (err) {
        assert.fail(`FinalizeBlock threw at height ${next} [seed=0x${seed.toString(16)}]: ${(err as Error).stack}`);
      }
      assert.doesNotThrow(() => Response.encode(fb).finish(), "FinalizeBlock response encodes");
      const results = fb.finalizeBlock!.txResults;
      assert.equal(results.length, txs.length, `one result per tx at height ${next}`);
      for (const [i, { c, s, p }] of expected.entries()) {
        const res = results[i];
        assert.ok(Number.isInteger(res.code) && res.code >= 0, where(`result code ${res.code}`, c));
        assert.notEqual(res.code, CODE.internal, where(`FinalizeBlock internal error: ${res.log}`, c));
        assert.ok(res.gasUsed >= 0n && res.gasUsed <= res.gasWanted, where("gas used > wanted", c));
        bump(stats.blockCodes, res.code);
        if (res.code !== 0) assert.ok(res.codespace === "sdk" && res.log.length > 0, where("failure without codespace or log", c));
        if (s && p) {
          assert.equal(res.code, p.code, where(`our ${s.kind} tx (seq ${s.sequence}): want code ${p.code}, got ${res.code} "${res.log}"`, c));
          if (p.charged) {
            stats.charged++;
            if (p.code !== 0) stats.chargedFailed++;
          } else stats.junkInBlocks++;
        } else {
          assert.notEqual(res.code, 0, where("FinalizeBlock accepted a tx we never signed", c));
          stats.junkInBlocks++;
        }
      }
      await dispatch(app, Request.fromPartial({ commit: {} }));
      const refFb = await ref.finalizeBlock(blockRequest(next, refTxs).finalizeBlock!);
      await ref.commit();
      assert.equal(
        hex(fb.finalizeBlock!.appHash), hex(refFb.appHash!),
        `app hash at height ${next} differs from an app that got only the ${refTxs.length} charged txs of this block's ${txs.length} [seed=0x${seed.toString(16)}]: junk changed state`,
      );
      const info = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
      assert.equal(info.lastBlockHeight, next);
      assert.equal(hex(info.lastBlockAppHash!), hex(fb.finalizeBlock!.appHash));
      height = next;
      model = blockModel;
      stats.blocks++;

      if (before) {
        stats.junkOnlyBlocks++;
        const after = await dumpState(app);
        assert.deepEqual([...after.rest], [...before.rest], `a junk-only block changed state outside blockinfo at height ${height} [seed=0x${seed.toString(16)}]`);
        const changed = [...new Set([...before.blockinfo.keys(), ...after.blockinfo.keys()])].filter((k) => before.blockinfo.get(k) !== after.blockinfo.get(k));
        const allowed = new Set([hex(Buffer.from("blockinfo/last"))]);
        assert.ok(changed.every((k) => allowed.has(k)), `junk-only block changed blockinfo keys ${changed.join(",")}`);
      }
      await checkModel();
      for (const c of candidates) if (rng.chance(0.3)) fuzzer.remember(c.bytes);
    }

    // Plausibility: the run exercised acceptance and charging, and most inputs were junk.
    assert.ok(stats.inputs >= target);
    assert.ok(stats.checkAccepted > 0 && stats.charged > 0, "some valid txs must have been accepted and executed");
    assert.ok(stats.checkAccepted < stats.inputs / 5, `accepted ${stats.checkAccepted} of ${stats.inputs}: implausibly many`);
    assert.ok(stats.junkInBlocks > stats.inputs / 2);
    const fmt = fmtCounts;
    total.inputs += stats.inputs;
    total.ms += Date.now() - started;
    console.log(`    fuzz-tx: ${stats.inputs} inputs in ${stats.blocks} blocks (${stats.junkOnlyBlocks} junk-only), ${((Date.now() - started) / 1000).toFixed(1)} s, ${fuzzer.signatures} txs signed`);
    console.log(`    fuzz-tx: generators ${fmt(stats.gens)}`);
    console.log(`    fuzz-tx: CheckTx codes ${fmt(stats.checkCodes)}; accepted ${stats.checkAccepted} (${stats.acceptedNotCanonical} not byte-identical to the tx we signed, same triple)`);
    console.log(`    fuzz-tx: FinalizeBlock codes ${fmt(stats.blockCodes)}; charged ${stats.charged} (${stats.chargedFailed} failed after paying), junk ${stats.junkInBlocks}`);
    await app.close();
    await ref.close();
  });

  // Regression test, found while building the fuzzer above (its "overspend" and "foreign-denom"
  // txs): a tx that CheckTx refuses must leave the mempool's check state as it was, no fee taken and
  // no sequence used. runTx used to write the ante branch (fee + sequence bump) into the check state
  // before the messages ran and to keep it when CheckTx then refused the tx because a message
  // failed, so the account's next valid tx at that sequence was refused with code 32 until the next
  // Commit (while FinalizeBlock would have accepted it).
  it("a tx CheckTx refuses because its message would fail leaves the check state untouched (fee and sequence)", async function () {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(Bip39.encode(sha256(Buffer.from("poi fuzz check state"))).toString(), { prefix: "poi" });
    const [key] = await wallet.getAccounts();
    const d = tmpHome("fuzz-check");
    dirs.push(d);
    const app = await PoiApp.open(d, { minGasPrices: MIN_GAS_PRICES });
    const appState = { bank: { balances: [{ address: key.address, coins: [{ denom: DENOM, amount: "100000" }] }] } };
    await app.initChain(Request.fromPartial({ initChain: { time: { seconds: GENESIS_TIME, nanos: 0 }, chainId: CHAIN_ID, appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n } }).initChain!);
    let height = 0n;
    const commitBlock = async () => { height++; await app.finalizeBlock(blockRequest(height, []).finalizeBlock!); await app.commit(); };
    await commitBlock();
    const sign = async (amount: bigint, denom: string) => {
      const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(MsgSend.fromPartial({ fromAddress: key.address, toAddress: key.address, amount: [{ denom, amount: amount.toString() }] })).finish() }] })).finish();
      const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(key.pubkey)), sequence: 0n }], [{ denom: DENOM, amount: FEE.toString() }], Number(GAS), undefined, undefined);
      const { signature } = await wallet.signDirect(key.address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, 0n));
      return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
    };
    const good = await sign(10n, DENOM);
    const refusedTxs = { overspend: await sign(10_000_000n, DENOM), "foreign denom": await sign(5n, "uatom") };
    for (const [what, bad] of Object.entries(refusedTxs)) {
      await commitBlock(); // a fresh check state
      const refused = await app.checkTx({ tx: bad, type: 0 });
      assert.equal(refused.code, CODE.insufficientFunds, `${what}: ${refused.log}`);
      const res = await app.checkTx({ tx: good, type: 0 });
      assert.equal(res.code, 0, `after CheckTx refused the ${what} tx (input ${hex(bad)}), the account's valid tx at the same sequence is refused: ${res.log}`);
    }
    await app.close();
  });

  it(`${poiTarget} poi inputs (every message type) and a verdict aggregate a block: no throw, no internal error; refused txs change nothing, failed messages only fee and sequence`, async function () {
    console.log(`    fuzz-poi: seed=0x${seed.toString(16)} inputs=${poiTarget} (reproduce with FUZZ_SEED=0x${seed.toString(16)} FUZZ_INPUTS=0 FUZZ_POI_INPUTS=${poiTarget})`);
    const started = Date.now();
    const rng = new Rng(seed ^ 0x9e3779b9);
    const open = async (name: string) => { const d = tmpHome(name); dirs.push(d); return PoiApp.open(d, { minGasPrices: MIN_GAS_PRICES, maxTxBytes: POI_MAX_TX_BYTES }); };
    const { app, ref, keys, validators, accounts } = await openPoiFuzzChain(seed, open);
    const [r0, r1, w0, w1, w2, stranger] = keys.addresses;
    let height = 1n;
    let ante = new AnteModel(accounts);
    const world = new PoiWorld(rng, [r0, r1], [w0, w1, w2], [stranger]);
    const fuzzer = new PoiFuzzer(rng, keys, world, stranger, () => ante, () => height + 1n, validators);
    const count = new PoiStats();
    const { okByType, chargedByType } = count;
    const header = (h: bigint) => blockHeader(h, validators.validators[0].address);
    const where = (what: string, c: Candidate) => `${what} [seed=0x${seed.toString(16)} height=${height + 1n} gen=${c.gen}] input=${hex(c.bytes).slice(0, 4000)}`;
    const codeOk = (r: { code: number; codespace?: string; log?: string }, c: Candidate, stage: string) => {
      assert.ok(Number.isInteger(r.code) && r.code >= 0, where(`${stage} code ${r.code}`, c));
      assert.notEqual(r.code, CODE.internal, where(`${stage} internal error: ${r.log}`, c));
      if (r.code !== 0) assert.ok(["sdk", "poi"].includes(r.codespace ?? "") && (r.log ?? "").length > 0, where(`${stage} refusal without codespace or log`, c));
      assert.ok((r.log ?? "").length <= MAX_LOG_CHARS, where(`${stage} log of ${(r.log ?? "").length} characters`, c));
    };

    while (count.inputs < poiTarget) {
      await world.refresh(app);
      fuzzer.startRound();
      const n = Math.min(poiTarget - count.inputs, rng.range(40, 160));
      const candidates: Candidate[] = [];
      for (let i = 0; i < n; i++) candidates.push(await fuzzer.next());
      count.inputs += n;
      candidates.forEach((c) => bump(count.gens, c.gen.replace(/^(tx-bytes|ante-[a-z-]+):.*/, "$1")));
      candidates.forEach((c) => { const s = fuzzer.classify(c.bytes); if (s && c.bytes === s.bytes) bump(count.signedByType, s.msgType); });

      // -- CheckTx, as the mempool connection sends it.
      const acceptedNow = new Set<string>();
      for (const c of candidates) {
        let res: Response;
        try { res = await dispatch(app, Request.fromPartial({ checkTx: { tx: c.bytes, type: 0 } })); } catch (err) { assert.fail(where(`CheckTx threw ${(err as Error).stack}`, c)); }
        codeOk(res.checkTx!, c, "CheckTx");
        bump(count.checkCodes, res.checkTx!.code);
        if (res.checkTx!.code !== 0) continue;
        const s = fuzzer.classify(c.bytes);
        assert.ok(s, where("CheckTx accepted a tx we never signed", c));
        const wrong = acceptable(s, ante, c.bytes.length, height + 1n);
        assert.ok(!wrong, where(`CheckTx accepted a tx ${wrong}`, c));
        assert.ok(!acceptedNow.has(`${s.from}/${s.sequence}`), where(`CheckTx accepted ${s.from}/${s.sequence} twice`, c));
        acceptedNow.add(`${s.from}/${s.sequence}`);
      }

      // -- The block: a verdict aggregate (or not) at its head, then every candidate.
      const next = height + 1n;
      const head = validators.head(rng, next, world.verifying);
      bump(count.heads, head.kind);
      // Aggregates sent to the mempool reach a block now and then (CheckTx saw them all).
      const txs = [...(head.head ? [head.head] : []), ...candidates.filter((c) => !isAggregateTx(c.bytes) || rng.chance(0.15)).map((c) => c.bytes)];
      if (head.extra) txs.splice(head.extra.at === "second" ? 1 : txs.length, 0, head.extra.tx);
      const proposal = await dispatch(app, Request.fromPartial({ processProposal: { ...header(next), txs, proposedLastCommit: { round: 0, votes: [] } } }));
      const accepted = proposal.processProposal!.status === ResponseProcessProposal_ProposalStatus.ACCEPT;
      accepted ? count.accepted++ : count.rejected++;
      const strayAggregate = txs.slice(head.head ? 1 : 0).some((tx) => tx !== head.extra?.tx && isAggregateTx(tx)); // from the mempool: the block must be rejected
      if (head.expect) assert.equal(accepted, head.expect === "accept" && !strayAggregate, `ProcessProposal of a "${head.kind}" aggregate at height ${next} [seed=0x${seed.toString(16)}]`);
      const ext = rng.chance(0.5) ? rng.bytes(rng.int(200)) : head.head ?? new Uint8Array();
      const vve = await dispatch(app, Request.fromPartial({ verifyVoteExtension: { hash: new Uint8Array(32), validatorAddress: validators.validators[1].address, height: height, voteExtension: ext } }));
      assert.ok(vve.verifyVoteExtension, "VerifyVoteExtension answers");

      let fb: Response;
      try { fb = await dispatch(app, Request.fromPartial({ finalizeBlock: { ...header(next), txs, decidedLastCommit: { round: 0, votes: [] } } })); } catch (err) { assert.fail(`FinalizeBlock threw at height ${next} [seed=0x${seed.toString(16)}]: ${(err as Error).stack}`); }
      const results = fb.finalizeBlock!.txResults;
      assert.equal(results.length, txs.length, "one result per tx");
      const firstApplied = isAggregateTx(txs[0] ?? new Uint8Array()) && results[0].code === 0;
      assert.equal(accepted, firstApplied && !txs.slice(1).some(isAggregateTx), `ProcessProposal ${accepted ? "accepted" : "rejected"} a "${head.kind}" block whose aggregate FinalizeBlock ${firstApplied ? "applied" : "did not apply"} [seed=0x${seed.toString(16)} height=${next}]`);

      // -- What may change state goes to the reference app; our txs are checked against the ante model.
      const refTxs: Uint8Array[] = firstApplied ? [txs[0]] : [];
      const blockAnte = ante.clone();
      for (const [i, tx] of txs.entries()) {
        const res = results[i];
        const c = candidates.find((x) => x.bytes === tx) ?? { gen: isAggregateTx(tx) ? `aggregate:${head.kind}` : "?", bytes: tx };
        codeOk(res, c, "FinalizeBlock");
        bump(count.blockCodes, res.code);
        if (isAggregateTx(tx)) {
          if (i > 0) assert.notEqual(res.code, 0, where("an aggregate after the first tx was applied", c));
          continue;
        }
        const s = fuzzer.classify(tx);
        const paid = charged(res);
        if (!s) {
          assert.ok(!paid && res.code !== 0, where("a tx we never signed got past the ante handler", c));
          continue;
        }
        if (s.mustFail) assert.notEqual(res.code, 0, where(`the malformed training message "${s.mustFail}" succeeded: ${res.log}`, c));
        const p = blockAnte.predict(s, tx.length, next);
        if (!p.charged) assert.ok(!paid, where(`our ${s.gen} tx got past the ante handler; the model says code ${p.code}`, c));
        if (s.validMsgs) assert.equal(paid ? 0 : res.code, p.charged ? 0 : p.code, where(`our ${s.gen} tx: want ${p.charged ? "charged" : `code ${p.code}`}, got code ${res.code} "${res.log}"`, c));
        if (!paid) continue;
        blockAnte.charge(s);
        bump(chargedByType, s.msgType);
        if (res.code === 0) { bump(okByType, s.msgType); refTxs.push(tx); } else refTxs.push((await fuzzer.twin(s)).bytes);
      }
      await dispatch(app, Request.fromPartial({ commit: {} }));
      const refFb = await ref.finalizeBlock({ ...header(next), txs: refTxs, decidedLastCommit: { round: 0, votes: [] } });
      await ref.commit();
      if (hex(fb.finalizeBlock!.appHash) !== hex(refFb.appHash!)) {
        const [a, b] = [await dumpState(app), await dumpState(ref)];
        const diff = [...new Set([...a.rest.keys(), ...b.rest.keys()])].filter((k) => a.rest.get(k) !== b.rest.get(k)).map((k) => Buffer.from(k, "hex").toString("latin1"));
        assert.fail(`app hash at height ${next} differs from a reference app that got only the aggregate, the charged txs and twins of the failed ones [seed=0x${seed.toString(16)}]; keys: ${JSON.stringify(diff.slice(0, 20))}`);
      }
      height = next;
      ante = blockAnte;
      count.blocks++;
      for (const c of candidates) if (rng.chance(0.3)) fuzzer.remember(c.bytes);
    }

    // Plausibility: every message type succeeded somewhere, aggregates went both ways, verdicts were recorded.
    for (const t of ["register-model", "create-dataset", "upload-chunk", "submit-task", "claim", "submit-result", "submit-training", "commit-training", "reveal-checkpoint"]) assert.ok((okByType.get(t) ?? 0) > 0, `no ${t} ever succeeded: ${fmtCounts(okByType)}`);
    assert.ok(count.accepted > 0 && count.rejected > 0, `proposals accepted ${count.accepted}, rejected ${count.rejected}`);
    const verified = (await app.poi.tasks(app.queryContext())).filter((t) => t.status === 5 || t.failedAttempts > 0).length;
    assert.ok(poiTarget < 1000 || verified > 0, "some tasks were decided by the validators' votes");
    total.inputs += count.inputs;
    total.ms += Date.now() - started;
    count.print(Date.now() - started, `${fuzzer.signatures} txs signed; ${verified} tasks decided by votes`);
    await app.close();
    await ref.close();
  });
});
