/** Pieces the `poi` subcommands share: the usage error, `--output`, printing, and reading from stdin. */
import * as readline from "node:readline";

export { errorMessage } from "../client/results";

/** Wrong command shape (unknown command, missing argument, bad option): main prints the usage and exits 2. */
export class UsageError extends Error {}

export type OutputFormat = "json" | "text";

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw new UsageError(`--output must be "json" or "text", got "${value}"`);
}

/** Options every keys/tx/query command accepts, in node:util parseArgs form. */
export const OUTPUT_OPTION = { output: { type: "string", short: "o" } } as const;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printLines(lines: string[]): void {
  process.stdout.write(lines.map((l) => l + "\n").join(""));
}

/** Exactly `names.length` positional arguments, or a usage error naming the command and what is missing. */
export function positionals(command: string, got: string[], names: string[]): string[] {
  if (got.length < names.length) throw new UsageError(`${command} needs ${names.slice(got.length).join(" ")}`);
  if (got.length > names.length) throw new UsageError(`${command}: unexpected argument "${got[names.length]}"`);
  return got;
}

/** The first line of stdin (after `prompt` on stderr when stdin is a terminal), or undefined at end of input. */
export async function readLine(prompt?: string): Promise<string | undefined> {
  if (prompt && process.stdin.isTTY) process.stderr.write(prompt);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
    return undefined;
  } finally {
    rl.close();
  }
}
