/** x/slashing parameters (fractions in basis points; the jail period in seconds of block time). */
import { ErrInvalidRequest } from "../../app/errors";

export interface SlashingParams {
  signed_blocks_window: bigint;
  /** A validator must sign at least this share of the window's blocks. */
  min_signed_per_window_bps: bigint;
  downtime_jail_seconds: bigint;
  slash_fraction_downtime_bps: bigint;
  slash_fraction_double_sign_bps: bigint;
}

export const DEFAULT_SLASHING_PARAMS: SlashingParams = {
  signed_blocks_window: 100n,
  min_signed_per_window_bps: 5_000n,
  downtime_jail_seconds: 60n,
  slash_fraction_downtime_bps: 100n,
  slash_fraction_double_sign_bps: 500n,
};

export function parseSlashingParams(json: unknown): SlashingParams {
  const j = (json ?? {}) as Record<string, unknown>;
  if (typeof j !== "object" || Array.isArray(j)) throw ErrInvalidRequest("slashing params must be an object");
  const p: SlashingParams = { ...DEFAULT_SLASHING_PARAMS };
  for (const [k, v] of Object.entries(j)) {
    if (!(k in p)) throw ErrInvalidRequest(`slashing params: unknown field ${k}`);
    if (typeof v !== "string" || !/^[0-9]{1,18}$/.test(v)) throw ErrInvalidRequest(`slashing params: ${k} must be a decimal string`);
    p[k as keyof SlashingParams] = BigInt(v);
  }
  if (p.signed_blocks_window < 1n) throw ErrInvalidRequest("slashing params: signed_blocks_window must be at least 1");
  for (const k of ["min_signed_per_window_bps", "slash_fraction_downtime_bps", "slash_fraction_double_sign_bps"] as const) {
    if (p[k] > 10_000n) throw ErrInvalidRequest(`slashing params: ${k} above 10000`);
  }
  return p;
}

export function slashingParamsJson(p: SlashingParams): Record<string, string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (v as bigint).toString()]));
}
