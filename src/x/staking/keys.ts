/** Key layout inside "staking/" (all addresses 20 bytes; heights 8 bytes big-endian). */
export const STAKING_MODULE = "staking";
export const BONDED_POOL = "bonded_tokens_pool";
export const NOT_BONDED_POOL = "not_bonded_tokens_pool";

const b = (...parts: Array<Uint8Array | number[]>) => Buffer.concat(parts.map((p) => Buffer.from(p as Uint8Array)));
const u64 = (v: bigint) => { const x = Buffer.alloc(8); x.writeBigUInt64BE(v); return x; };

export const K = {
  /** -> params JSON */
  PARAMS: Buffer.from([0x01]),
  /** 0x21 | operator -> cosmos.staking.v1beta1.Validator protobuf */
  validator: (op: Uint8Array) => b([0x21], op),
  VALIDATOR: 0x21,
  /** 0x22 | consensus address -> operator */
  byConsAddr: (cons: Uint8Array) => b([0x22], cons),
  /** 0x23 | operator -> power CometBFT was last sent (8 bytes); only for validators in the set */
  lastPower: (op: Uint8Array) => b([0x23], op),
  LAST_POWER: 0x23,
  /** 0x24 | operator -> empty: removed for good (double sign) */
  tombstone: (op: Uint8Array) => b([0x24], op),
  /** 0x31 | delegator | operator -> shares (decimal, 18 implied decimals) */
  delegation: (del: Uint8Array, op?: Uint8Array) => b([0x31], del, op ?? []),
  DELEGATION: 0x31,
  /** 0x32 | operator | delegator -> empty (delegations of a validator) */
  delegationByVal: (op: Uint8Array, del?: Uint8Array) => b([0x32], op, del ?? []),
  DELEGATION_BY_VAL: 0x32,
  /** 0x41 | delegator | operator -> unbonding entries JSON */
  unbonding: (del: Uint8Array, op?: Uint8Array) => b([0x41], del, op ?? []),
  UNBONDING: 0x41,
  /** 0x42 | completion height | delegator | operator -> empty (the unbonding queue) */
  unbondingQueue: (height: bigint, del?: Uint8Array, op?: Uint8Array) => b([0x42], u64(height), del ?? [], op ?? []),
};

export { u64 };
