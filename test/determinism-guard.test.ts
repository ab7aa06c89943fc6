/**
 * Determinism guard: consensus code (src/app, src/store, src/x, except the validator-side verifier
 * in src/x/poi/verify, whose floats only ever feed one validator's vote) must not read the clock or
 * a random source, use float-valued Math functions, depend on the locale, or iterate object keys with
 * for...in. Real exceptions go in ALLOWED, one line each, with the reason.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const CONSENSUS_DIRS = ["src/app", "src/store", "src/x"];
const EXCLUDED_DIRS = ["src/x/poi/verify"];

const FORBIDDEN: Array<{ what: string; re: RegExp }> = [
  { what: "Math.random", re: /\bMath\.random\b/ },
  { what: "Date.now", re: /\bDate\.now\b/ },
  { what: "new Date", re: /\bnew\s+Date\b/ },
  { what: "performance.now", re: /\bperformance\.now\b/ },
  { what: "a float Math function", re: /\bMath\.(exp|expm1|log|log2|log10|log1p|sqrt|cbrt|pow|hypot|fround|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|asinh|acosh|atanh)\b/ },
  { what: "toLocaleString", re: /\btoLocale(String|DateString|TimeString)\b/ },
  { what: "localeCompare", re: /\blocaleCompare\b/ },
  { what: "a for...in loop", re: /\bfor\s*\(\s*(const|let|var)\s+[\w$]+\s+in\b/ },
];

/** "file:line text" prefixes that may match, each with the reason it is safe. */
const ALLOWED: Array<{ at: string; reason: string }> = [];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const rel = path.relative(ROOT, p);
    if (e.isDirectory()) {
      if (!EXCLUDED_DIRS.includes(rel)) out.push(...sourceFiles(p));
    } else if (e.name.endsWith(".ts")) {
      out.push(p);
    }
  }
  return out.sort();
}

/** The code with comments blanked out (line numbers kept), so a comment may name what it avoids. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/\/\/[^\n]*/g, "");
}

export function findViolations(files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    withoutComments(fs.readFileSync(file, "utf8")).split("\n").forEach((line, i) => {
      for (const f of FORBIDDEN) {
        if (!f.re.test(line)) continue;
        const at = `${rel}:${i + 1}`;
        if (ALLOWED.some((a) => at === a.at)) continue;
        found.push(`${at}: ${f.what}: ${line.trim()}`);
      }
    });
  }
  return found;
}

describe("determinism guard (consensus folders)", () => {
  const files = CONSENSUS_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d)));

  it("scans the consensus folders and skips only the verifier", () => {
    assert.ok(files.length > 30, `only ${files.length} files found under ${CONSENSUS_DIRS.join(", ")}`);
    assert.ok(files.some((f) => f.includes(`${path.sep}x${path.sep}poi${path.sep}`)), "src/x/poi is scanned");
    assert.ok(!files.some((f) => f.includes(`${path.sep}verify${path.sep}`)), "src/x/poi/verify is excluded");
  });

  it("finds no clock, randomness, float Math, locale or for...in in consensus code", () => {
    const violations = findViolations(files);
    assert.deepEqual(violations, [], `non-deterministic code in consensus folders:\n${violations.join("\n")}`);
  });

  it("would catch each forbidden form (the patterns themselves are checked)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-guard-"));
    try {
      const samples = [
        "const r = Math.random();", "const t = Date.now();", "const d = new Date(0);", "performance.now();",
        "const y = Math.exp(x);", "n.toLocaleString();", "a.localeCompare(b);", "for (const k in obj) f(k);",
      ];
      const file = path.join(dir, "sample.ts");
      fs.writeFileSync(file, samples.join("\n") + "\n// Math.random() in a comment is fine\n");
      assert.equal(findViolations([file]).length, samples.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
