import type { IterateOptions, KVStore } from "./store";

/** Smallest key greater than every key that starts with `prefix` (undefined: no bound). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** A view of `parent` in which every key is implicitly prefixed: one module's slice of the state. */
export class PrefixStore implements KVStore {
  constructor(private readonly parent: KVStore, readonly prefix: Uint8Array) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.parent.get(concatBytes(this.prefix, key));
  }
  set(key: Uint8Array, value: Uint8Array): void {
    this.parent.set(concatBytes(this.prefix, key), value);
  }
  delete(key: Uint8Array): void {
    this.parent.delete(concatBytes(this.prefix, key));
  }
  async iterate(start: Uint8Array, end?: Uint8Array, opts?: IterateOptions): Promise<Array<[Uint8Array, Uint8Array]>> {
    const from = concatBytes(this.prefix, start);
    const to = end ? concatBytes(this.prefix, end) : prefixEnd(this.prefix);
    const rows = await this.parent.iterate(from, to, opts);
    return rows.map(([k, v]) => [k.subarray(this.prefix.length), v]);
  }
}
