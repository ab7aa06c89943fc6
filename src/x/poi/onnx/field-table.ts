/**
 * A strict protobuf message reader driven by a table of field specs (model-parse.ts has the ONNX
 * tables). Each spec says how a field number is read and stored; one generic loop applies it.
 *
 * For every field, in this order: a number with no spec is refused; a refused field fails at once;
 * a singular field seen before is refused (protobuf C++ would merge the two); `before` runs (oneof
 * checks); the wire type is checked; a capped repeated field at its cap is refused; the value is
 * read, then stored by `set`. Sub-messages are read by the spec's own code, so nesting depth is
 * fixed by the tables, never by the input. Tables are looked up, never iterated.
 */
import { asInt64, readRepeatedVarint, type WireReader, WireType, wireTypeName } from "./wire";

/** A repeated field holding at most `max` values; more are refused with the message `tooMany(max)`. */
export interface Cap<M, C> {
  count: (m: M) => number;
  max: (ctx: C) => number;
  tooMany: (max: number) => string;
}

interface Base<M, C> {
  field: number;
  /** The field's name in error messages. */
  name: string;
  /** Singular: a second occurrence is refused. Fields without it may repeat. */
  once?: boolean;
  cap?: Cap<M, C>;
  /** Runs before the wire type is checked (a oneof refusing a second member). */
  before?: (m: M, r: WireReader) => void;
}

export type FieldSpec<M, C> =
  /** Refused wherever it appears, with `message`. */
  | Base<M, C> & { kind: "refused"; message: string }
  /** Varint, read as int64 (two's complement). */
  | Base<M, C> & { kind: "int64"; set?: (m: M, v: bigint) => void }
  /** 32-bit (float bits, never interpreted). */
  | Base<M, C> & { kind: "fixed32"; set?: (m: M, v: number) => void }
  /** Length-delimited valid UTF-8; `utf8Name` names it in the UTF-8 error (default `name`). */
  | Base<M, C> & { kind: "string"; utf8Name?: string; set?: (m: M, v: string) => void }
  /** Length-delimited bytes (a view, not a copy). */
  | Base<M, C> & { kind: "bytes"; set?: (m: M, v: Uint8Array, r: WireReader) => void }
  /**
   * Length-delimited sub-message, read by `read` at `where` (default `parent.name`, with `[index]`
   * when capped; `whereAt` overrides it).
   */
  | Base<M, C> & {
    kind: "message";
    whereAt?: (parent: string, index: number) => string;
    read: (m: M, bytes: Uint8Array, where: string, ctx: C, r: WireReader) => void;
  }
  /** Repeated int64, packed or one varint per value, appended to `list` (at most `max` in all). */
  | Base<M, C> & { kind: "packed-int64"; list: (m: M) => bigint[]; max: (ctx: C) => number; set?: (m: M) => void }
  /** Repeated 32-bit values, packed or not; the values are checked for length and dropped. */
  | Base<M, C> & { kind: "packed-fixed32"; set?: (m: M) => void }
  /** Any wire type, skipped over. */
  | Base<M, C> & { kind: "skipped"; set?: (m: M) => void };

export type FieldTable<M, C> = ReadonlyMap<number, FieldSpec<M, C>>;

export function fieldTable<M, C>(specs: readonly FieldSpec<M, C>[]): FieldTable<M, C> {
  const table = new Map<number, FieldSpec<M, C>>();
  for (const s of specs) {
    if (table.has(s.field)) throw new Error(`field table: field ${s.field} listed twice`);
    table.set(s.field, s);
  }
  return table;
}

function expectWire(r: WireReader, wireType: number, expected: number, name: string): void {
  if (wireType !== expected) {
    r.fail(`field ${name} has wire type ${wireTypeName(wireType)}, expected ${wireTypeName(expected)}`);
  }
}

/** Reads every field of `r` into `m` by `table`; returns `m`. */
export function readFields<M, C>(r: WireReader, table: FieldTable<M, C>, m: M, ctx: C): M {
  const seen = new Set<number>();
  while (!r.done) {
    const { field, wireType } = r.tag();
    const spec = table.get(field);
    if (spec === undefined) {
      return r.fail(`unknown or unsupported field number ${field} (wire type ${wireTypeName(wireType)})`);
    }
    readField(r, wireType, spec, m, ctx, seen);
  }
  return m;
}

function readField<M, C>(r: WireReader, wireType: number, spec: FieldSpec<M, C>, m: M, ctx: C, seen: Set<number>): void {
  if (spec.kind === "refused") r.fail(spec.message);
  if (spec.once) {
    if (seen.has(spec.field)) r.fail(`field ${spec.name} (${spec.field}) appears more than once`);
    seen.add(spec.field);
  }
  spec.before?.(m, r);
  /** Checks the wire type, then the cap; returns how many values a capped field has so far. */
  const checked = (wire: number): number => {
    expectWire(r, wireType, wire, spec.name);
    if (spec.cap === undefined) return 0;
    const count = spec.cap.count(m);
    const max = spec.cap.max(ctx);
    if (count >= max) r.fail(spec.cap.tooMany(max));
    return count;
  };
  switch (spec.kind) {
    case "int64": {
      checked(WireType.VARINT);
      const v = asInt64(r.varint());
      spec.set?.(m, v);
      return;
    }
    case "fixed32": {
      checked(WireType.I32);
      const v = r.fixed32();
      spec.set?.(m, v);
      return;
    }
    case "string": {
      checked(WireType.LEN);
      const v = r.string(spec.utf8Name ?? spec.name);
      spec.set?.(m, v);
      return;
    }
    case "bytes": {
      checked(WireType.LEN);
      const v = r.bytes();
      spec.set?.(m, v, r);
      return;
    }
    case "message": {
      const index = checked(WireType.LEN);
      const bytes = r.bytes();
      const where = spec.whereAt !== undefined ? spec.whereAt(r.where, index)
        : spec.cap !== undefined ? `${r.where}.${spec.name}[${index}]` : `${r.where}.${spec.name}`;
      spec.read(m, bytes, where, ctx, r);
      return;
    }
    case "packed-int64":
      readRepeatedVarint(r, wireType, spec.list(m), spec.max(ctx), spec.name);
      spec.set?.(m);
      return;
    case "packed-fixed32":
      if (wireType === WireType.LEN) {
        if (r.bytes().length % 4 !== 0) r.fail(`packed ${spec.name} length is not a multiple of 4`);
      } else {
        expectWire(r, wireType, WireType.I32, spec.name);
        r.fixed32();
      }
      spec.set?.(m);
      return;
    case "skipped":
      r.skip(wireType);
      spec.set?.(m);
      return;
  }
}
