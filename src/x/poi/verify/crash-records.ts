/**
 * Models that crashed or hung this node's verifier, kept on disk so that a restart does not run them
 * again (and crash-loop): after a crash, or after MAX_TIMEOUTS timeouts, the verifier votes "cannot
 * verify" on that model's attempts instead of running it. The file is this node's own business; it
 * never reaches consensus except through those votes.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const CRASH_FILE = "verifier-crashes.json";
const MAX_TIMEOUTS = 2;

export interface CrashRecord { crashes: number; timeouts: number; last: string }

export class CrashRecords {
  private readonly records: Record<string, CrashRecord>;

  /** `dir` undefined: in memory only (tests). */
  constructor(private readonly dir?: string) {
    this.records = {};
    if (!dir) return;
    try {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, CRASH_FILE), "utf8")) as Record<string, CrashRecord>;
      for (const [id, r] of Object.entries(raw)) if (/^[0-9a-f]{64}$/.test(id)) this.records[id] = r;
    } catch {
      // no file yet, or unreadable: start empty
    }
  }

  /** Whether this node has given up on running `modelId`. */
  unusable(modelId: string): CrashRecord | undefined {
    const r = this.records[modelId];
    return r && (r.crashes > 0 || r.timeouts >= MAX_TIMEOUTS) ? r : undefined;
  }

  record(modelId: string, kind: "crash" | "timeout", message: string): void {
    const r = (this.records[modelId] ??= { crashes: 0, timeouts: 0, last: "" });
    if (kind === "crash") r.crashes++;
    else r.timeouts++;
    r.last = message.slice(0, 300);
    if (!this.dir) return;
    const file = path.join(this.dir, CRASH_FILE);
    fs.writeFileSync(file + ".tmp", JSON.stringify(this.records, null, 2));
    fs.renameSync(file + ".tmp", file); // atomic: a crash mid-write leaves the old file
  }
}
