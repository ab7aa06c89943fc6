/**
 * A bounded map, approximately least-recently-used: two generations of at most capacity/2 entries
 * each. New and re-used entries go into the young generation; when it is full it becomes the old one
 * and the previous old generation is dropped. (A single Map evicting its first key would be
 * quadratic in V8: iteration from the start has to skip every deleted entry.)
 *
 * Used for caches only: what it holds must never decide a state change by its presence (a miss
 * always falls back to the real computation or read).
 */
export class GenerationCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly generationSize: number;

  constructor(readonly capacity: number) {
    this.generationSize = Math.floor(capacity / 2);
  }

  get(key: string): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    if (this.generationSize === 0) return;
    this.young.set(key, value);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  /** Entries held (an entry in both generations counts twice); never more than `capacity`. */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
