import type { Event } from "cosmjs-types/tendermint/abci/types";
import type { KVStore } from "../store/store";
import { PrefixStore } from "../store/prefix";
import { GasKVStore, GasMeter } from "./gas";

/** What the state machine may know about the block being executed: all of it from the header, never the clock. */
export interface BlockHeader {
  chainId: string;
  height: bigint;
  /** block time from the header: whole seconds and nanoseconds since the Unix epoch */
  timeSeconds: bigint;
  timeNanos: number;
  /** hash of the block being executed (empty for genesis and queries) */
  hash: Uint8Array;
  proposer: Uint8Array;
  /** FinalizeBlock's decided_last_commit: who signed the previous block (absent outside FinalizeBlock). */
  lastCommitVotes?: readonly LastCommitVote[];
}

/** One validator of decided_last_commit: its consensus address, power, and whether its precommit for the block is in the commit. */
export interface LastCommitVote {
  address: Uint8Array;
  power: bigint;
  signed: boolean;
}

/** "proposal": the ABCI++ hooks (PrepareProposal, ProcessProposal, ExtendVote, VerifyVoteExtension) over committed state. */
export type ExecMode = "genesis" | "check" | "deliver" | "simulate" | "query" | "proposal";

/**
 * Collects the events of one tx or one block phase, in emission order. With `keep` false it drops
 * them (a Recheck, whose events nobody reads); events never decide a state change.
 */
export class EventManager {
  readonly events: Event[] = [];
  constructor(readonly keep = true) {}
  emit(type: string, attributes: Array<[string, string]>, index = true): void {
    if (this.keep) this.events.push({ type, attributes: attributes.map(([key, value]) => ({ key, value, index })) });
  }
  append(events: readonly Event[]): void {
    if (this.keep) this.events.push(...events);
  }
}

/** Execution context passed to keepers and handlers. `kv` is the whole state; modules use `store(name)`. */
export class Context {
  constructor(
    readonly kv: KVStore,
    readonly header: BlockHeader,
    readonly mode: ExecMode,
    readonly events: EventManager = new EventManager(),
    /** Charged for every store access made through `store()`; unmetered outside txs. */
    readonly gasMeter: GasMeter = new GasMeter(),
  ) {}

  /** The module's own key space: keys are prefixed with "<module>/". Accesses cost gas. */
  store(moduleName: string): KVStore {
    let prefix = modulePrefixes.get(moduleName);
    if (prefix === undefined) modulePrefixes.set(moduleName, (prefix = moduleStorePrefix(moduleName)));
    return new PrefixStore(new GasKVStore(this.kv, this.gasMeter), prefix);
  }

  /** Same block and meter, another state view (a tx branch) and a fresh event list (kept or dropped as this one's). */
  withKV(kv: KVStore): Context {
    return new Context(kv, this.header, this.mode, new EventManager(this.events.keep), this.gasMeter);
  }

  /** Same state view and events, another gas meter (one per tx). */
  withGasMeter(meter: GasMeter): Context {
    return new Context(this.kv, this.header, this.mode, this.events, meter);
  }
}

/** Context.store's prefixes by module name (PrefixStore only reads its prefix). */
const modulePrefixes = new Map<string, Uint8Array>();

export function moduleStorePrefix(moduleName: string): Uint8Array {
  return Buffer.from(`${moduleName}/`, "utf8");
}
