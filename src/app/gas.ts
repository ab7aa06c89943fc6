import type { IterateOptions, KVStore } from "../store/store";
import { ErrOutOfGas } from "./errors";

/**
 * Gas costs, the Cosmos SDK's defaults (store/types/gas.go KVGasConfig, x/auth params), so fees
 * and "auto" gas estimates feel familiar to Cosmos users. All integers.
 */
export const GAS = {
  txSizePerByte: 10n,
  sigVerifySecp256k1: 1000n,
  readFlat: 1000n,
  readPerByte: 3n,
  writeFlat: 2000n,
  writePerByte: 30n,
  delete: 1000n,
  iterNextFlat: 30n,
} as const;

/** Counts gas for one tx; throws ErrOutOfGas the moment the limit is passed. */
export class GasMeter {
  private used = 0n;
  /** `limit` undefined = unmetered (genesis, block hooks, simulation). */
  constructor(readonly limit?: bigint) {}

  get consumed(): bigint {
    return this.used;
  }

  consume(amount: bigint, what: string): void {
    this.used += amount;
    if (this.limit !== undefined && this.used > this.limit) {
      throw ErrOutOfGas(`out of gas in location: ${what}; gasWanted: ${this.limit}, gasUsed: ${this.used}`);
    }
  }

  /** What a result reports: never more than the limit. */
  reported(): bigint {
    return this.limit !== undefined && this.used > this.limit ? this.limit : this.used;
  }
}

/** A KVStore view that charges every access to a gas meter before doing it. */
export class GasKVStore implements KVStore {
  constructor(private readonly parent: KVStore, private readonly meter: GasMeter) {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.meter.consume(GAS.readFlat, "ReadFlat");
    const value = await this.parent.get(key);
    this.meter.consume(GAS.readPerByte * BigInt(key.length + (value?.length ?? 0)), "ReadPerByte");
    return value;
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.meter.consume(GAS.writeFlat, "WriteFlat");
    this.meter.consume(GAS.writePerByte * BigInt(key.length + value.length), "WritePerByte");
    this.parent.set(key, value);
  }

  delete(key: Uint8Array): void {
    this.meter.consume(GAS.delete, "Delete");
    this.parent.delete(key);
  }

  async iterate(start: Uint8Array, end?: Uint8Array, opts?: IterateOptions): Promise<Array<[Uint8Array, Uint8Array]>> {
    this.meter.consume(GAS.readFlat, "IterFlat");
    const rows = await this.parent.iterate(start, end, opts);
    for (const [k, v] of rows) this.meter.consume(GAS.iterNextFlat + GAS.readPerByte * BigInt(k.length + v.length), "IterNext");
    return rows;
  }
}
