/** Inline SVG charts (no charting library): a step plot of series over block height, and a sparkline. */

export interface Series { name: string; cls: string; points: Array<[number, number]> }

const W = 560;
const H = 200;
const PAD = { l: 40, r: 12, t: 12, b: 28 };

function path(points: Array<[number, number]>, x: (v: number) => number, y: (v: number) => number): string {
  let d = "";
  let prevY: number | undefined;
  for (const [px, py] of points) {
    const X = x(px).toFixed(1);
    const Y = y(py).toFixed(1);
    d += d === "" ? `M${X},${Y}` : `H${X}V${Y}`;
    prevY = py;
  }
  return prevY === undefined ? "" : d;
}

/** Round tick values (steps of 1, 2 or 5 × a power of ten) covering [lo, hi] in about n steps. */
function ticks(lo: number, hi: number, n: number): number[] {
  const raw = Math.max(1, (hi - lo) / n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
  return out;
}

/** Cumulative counts over height, one line per series, with axes and a legend. */
export function stepPlot(series: Series[], xLabel: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<svg viewBox="0 0 ${W} ${H}" class="plot"><text x="${W / 2}" y="${H / 2}" class="empty">no blocks yet</text></svg>`;
  const x0 = Math.min(...all.map((p) => p[0]));
  const x1 = Math.max(x0 + 1, ...all.map((p) => p[0]));
  const y1 = Math.max(1, ...all.map((p) => p[1]));
  const x = (v: number) => PAD.l + ((v - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / y1) * (H - PAD.t - PAD.b);
  const grid = ticks(0, y1, 4).map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${v}</text>`).join("");
  const xt = ticks(x0, x1, 6).map((v) => `<text x="${x(v)}" y="${H - PAD.b + 16}" class="tick" text-anchor="middle">${v}</text>`).join("");
  const lines = series.map((s) => `<path d="${path(s.points, x, y)}" class="line ${s.cls}"/>`).join("");
  const legend = series.map((s, i) => {
    const last = s.points.length ? s.points[s.points.length - 1][1] : 0;
    return `<g transform="translate(${PAD.l + 10 + i * 150},${PAD.t + 4})"><rect width="12" height="4" y="4" class="swatch ${s.cls}"/><text x="18" y="10" class="legend">${s.name}: ${last}</text></g>`;
  }).join("");
  return `<svg viewBox="0 0 ${W} ${H}" class="plot" role="img" aria-label="${series.map((s) => s.name).join(", ")} over ${xLabel}">`
    + `${grid}${xt}<text x="${W - PAD.r}" y="${H - 2}" class="tick" text-anchor="end">${xLabel}</text>${lines}${legend}</svg>`;
}

/** A small line of values (e.g. one validator's voting power sampled over height). */
export function sparkline(values: number[], w = 120, h = 24): string {
  if (values.length < 2) return `<svg class="spark" width="${w}" height="${h}"></svg>`;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * (w - 2) + 1).toFixed(1)},${(h - 2 - ((v - lo) / span) * (h - 4)).toFixed(1)}`).join(" ");
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><polyline points="${pts}"/></svg>`;
}
