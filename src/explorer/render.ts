/** HTML of each explorer panel, from the views in blocks.ts and chain.ts. Every chain string is escaped. */
import { AGGREGATE_TYPE, short, shortAddr, type BlockView, type ChainEvent, type VoteView } from "./blocks.js";
import { STATUSES, type TaskView, type ValidatorView, type WorkerView } from "./chain.js";
import { sparkline } from "./plot.js";

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "1234567upoi" → "1.234567 POI". */
export function poi(amount: string): string {
  const m = /^(\d+)(upoi)?$/.exec(amount);
  if (!m) return esc(amount);
  const n = m[1].padStart(7, "0");
  const whole = n.slice(0, -6).replace(/^0+(?=\d)/, "");
  const frac = n.slice(-6).replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} POI`;
}
const poiText = (text: string) => esc(text).replace(/\b(\d+)upoi\b/g, (_, n: string) => poi(n));
const typeName = (url: string) => url.split(".").pop() ?? url;

function voteHtml(v: VoteView): string {
  const verdicts = v.verdicts.map((d) => {
    const mark = d.cannotVerify ? "?" : d.pass ? "✓" : "✗";
    const cls = d.cannotVerify ? "abstain" : d.pass ? "pass" : "fail";
    const items = d.failedItems.length ? ` items ${d.failedItems.join(",")}` : "";
    return `<span class="verdict ${cls}" title="task ${esc(d.task)} attempt ${d.attempt}">task ${esc(d.task)} ${mark}${esc(items)}</span>`;
  });
  const items = v.itemVerdicts.map((d) => `<span class="verdict ${d.pass ? "pass" : "fail"}">task ${esc(d.task)} item ${esc(d.item)} ${d.pass ? "✓" : "✗"}</span>`);
  const seeds = [
    v.commitments ? `${v.commitments} seed commit` : "", v.reveals ? `${v.reveals} seed reveal` : "", v.segmentRequests ? `${v.segmentRequests} segment req.` : "",
  ].filter(Boolean).map((s) => `<span class="seed">${s}</span>`);
  const body = [...verdicts, ...items, ...seeds].join(" ") || `<span class="muted">no verdicts</span>`;
  return `<div class="vote"><code>${esc(short(v.validator, 8))}</code> ${body}</div>`;
}

export function blocksHtml(blocks: BlockView[]): string {
  const rows = blocks.map((b) => {
    const txs = b.txs.map((msgs) => msgs.filter((m) => m !== AGGREGATE_TYPE).map((m) => `<span class="msg" title="${esc(m)}">${esc(typeName(m))}</span>`).join(""))
      .filter(Boolean).join(" ");
    const votes = b.votes ? `<div class="votes"><span class="label">verdict aggregate, ${b.votes.length} votes</span>${b.votes.map(voteHtml).join("")}</div>` : "";
    const outcome = [b.verified ? `<span class="pill pass">${b.verified} verified</span>` : "", b.failed ? `<span class="pill fail">${b.failed} failed</span>` : ""].join(" ");
    return `<tr data-height="${b.height}"><td class="num">${b.height}</td><td>${esc(b.time.slice(11, 19))}</td><td><code>${esc(short(b.proposer, 8))}</code></td>`
      + `<td>${txs || `<span class="muted">no txs</span>`} ${outcome}${votes}</td></tr>`;
  }).join("");
  return `<table><thead><tr><th>height</th><th>time</th><th>proposer</th><th>txs by message type · votes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function outcome(t: TaskView): string {
  const tries = t.failedAttempts ? `, ${t.failedAttempts} failed attempt${t.failedAttempts > 1 ? "s" : ""} slashed` : "";
  switch (t.status) {
    case "COMPLETED": return `verified at ${esc(t.completedHeight)}: ${t.training ? "trained" : `paid ${poi(String(BigInt(t.rewardPerItem) * BigInt(t.numItems)))}`}${tries}`;
    case "EXPIRED": return `expired at ${esc(t.deadlineHeight)}, escrow refunded${tries}`;
    case "VERIFYING": return `result at ${esc(t.resultHeight)}, being verified${tries}`;
    case "CLAIMED": return `claimed (attempt ${t.attempt + 1})${tries}`;
    default: return `open until ${esc(t.deadlineHeight)}${tries}`;
  }
}

/** The newest tasks, those of status `only` when it is set (a click on a status count sets it). */
export function tasksHtml(tasks: TaskView[], total: number | null, only: string | null): string {
  const counts = STATUSES.map((s) => `<button class="pill status-${s}${only === s ? " active" : ""}" data-status-count="${s}">${s.toLowerCase()} ${tasks.filter((t) => t.status === s).length}</button>`).join(" ");
  const rows = tasks.filter((t) => only === null || t.status === only).slice(0, 15).map((t) => {
    const votes = t.votes.map((v) => `<span class="verdict ${v.cannotVerify ? "abstain" : v.pass ? "pass" : "fail"}" data-validator="${esc(v.validator)}" title="validator ${esc(v.validator)} at ${esc(v.height)}">`
      + `${esc(short(v.validator, 6))} ${v.cannotVerify ? "?" : v.pass ? "✓" : `✗${v.failedItems.length ? ` ${esc(v.failedItems.join(","))}` : ""}`}</span>`).join(" ");
    const challenges = t.challenges.map((c) => `<span class="verdict fail">item ${esc(c.item)}: ${c.reporters} report, ${c.votes} votes</span>`).join(" ");
    return `<tr class="task" data-task="${esc(t.id)}" data-status="${esc(t.status)}"><td class="num">${esc(t.id)}</td><td><span class="pill status-${esc(t.status)}">${esc(t.status.toLowerCase())}</span></td>`
      + `<td>${t.training ? "training" : "inference"}, ${esc(t.numItems)} items<br><span class="muted">model ${esc(short(t.modelId, 8))}</span></td>`
      + `<td>k ${t.k} of ${esc(t.numItems)} per validator</td><td>${t.worker ? `<code>${esc(shortAddr(t.worker))}</code>` : "-"}</td>`
      + `<td class="task-votes">${votes || `<span class="muted">-</span>`} ${challenges}</td><td>${outcome(t)}</td></tr>`;
  }).join("");
  const of = total !== null ? `${total} tasks on chain; ` : "";
  return `<div class="counts">${of}latest ${tasks.length} by status (click to filter): ${counts}</div>`
    + `<table><thead><tr><th>id</th><th>status</th><th>task</th><th>sample</th><th>worker</th><th>verdicts</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function workersHtml(workers: WorkerView[]): string {
  const rows = workers.map((w) => `<tr data-worker="${esc(w.address)}"><td><code title="${esc(w.address)}">${esc(shortAddr(w.address))}</code></td><td class="num">${esc(w.verifiedWorkUnits)}</td>`
    + `<td class="num">${esc(w.passed)}</td><td class="num">${esc(w.failed)}</td><td class="num">${esc(w.lapsed)}</td><td class="num">${poi(w.earned)}</td><td class="num">${poi(w.slashed)}</td></tr>`).join("");
  return `<table><thead><tr><th>worker</th><th>verified work units</th><th>passed</th><th>failed</th><th>lapsed</th><th>earned</th><th>slashed</th></tr></thead>`
    + `<tbody>${rows || `<tr><td colspan="7" class="muted">no worker has claimed a task yet</td></tr>`}</tbody></table>`;
}

const NONE = `<span class="muted">—</span>`;

function validatorName(v: ValidatorView): string {
  const status = v.jailed ? `<span class="pill fail">jailed</span>` : v.bondStatus ? `<span class="pill${v.bondStatus === "bonded" ? " pass" : ""}">${esc(v.bondStatus)}</span>` : "";
  const name = v.moniker !== null ? `<b class="moniker">${esc(v.moniker || "(no moniker)")}</b> ${status}<br>` : "";
  return `${name}<code title="${esc(v.address)}">${esc(short(v.address, 8))}</code><br><span class="muted">${esc(shortAddr(v.operator))}</span>`;
}

export function validatorsHtml(validators: ValidatorView[], history: Map<string, number[]>): string {
  const total = validators.reduce((s, v) => s + v.power, 0) || 1;
  const rows = validators.map((v) => {
    const h = history.get(v.address) ?? [];
    const delta = h.length ? v.power - h[0] : 0;
    const score = v.workScore ? `<td class="num work-score" data-score="${esc(v.workScore.score)}" title="after epoch ${esc(v.workScore.epoch)}">${esc(v.workScore.score)}</td>` : `<td class="num work-score">${NONE}</td>`;
    const workers = v.workers === null ? NONE : v.workers.map((w) => `<code class="linked-worker" data-worker="${esc(w)}" title="${esc(w)}">${esc(shortAddr(w))}</code>`).join("<br>") || `<span class="muted">none</span>`;
    return `<tr data-validator="${esc(v.address)}"><td>${validatorName(v)}</td>`
      + `<td class="num">${v.power}</td><td class="num">${((100 * v.power) / total).toFixed(1)}%</td>`
      + `<td>${sparkline(h)} <span class="${delta > 0 ? "up" : delta < 0 ? "down" : "muted"}">${delta > 0 ? "+" : ""}${delta}</span></td>`
      + `${score}<td>${workers}</td>`
      + `<td class="num">${esc(v.passesMatched)}</td><td class="num">${esc(v.catches)}</td><td class="num">${poi(v.paid)}</td><td class="num">${poi(v.pending)}</td></tr>`;
  }).join("");
  return `<table><thead><tr><th>validator</th><th>power</th><th>share</th><th>power over the blocks read</th>`
    + `<th title="integer EMA of its linked workers' verified work units per epoch">work score</th><th>linked workers</th>`
    + `<th>passes matched</th><th>catches</th><th>fees paid</th><th>pending</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function eventList(events: ChainEvent[], none: string): string {
  const rows = events.slice(0, 12).map((e) => `<li class="event ${e.kind}"><span class="num">${e.height}</span> <span class="pill ${e.kind}">${e.kind}</span> ${poiText(e.text)}</li>`).join("");
  return `<ul class="events">${rows || `<li class="muted">${none}</li>`}</ul>`;
}

/** Slashes (and expiries) apart from rewards (and power updates), so that the many rewards do not push them out. */
export function eventsHtml(events: ChainEvent[]): string {
  const bad = events.filter((e) => e.kind === "slash" || e.kind === "expired");
  const good = events.filter((e) => e.kind === "reward" || e.kind === "power");
  return `<h3>Slashes</h3>${eventList(bad, "no slash seen yet")}<h3>Rewards</h3>${eventList(good, "no reward seen yet")}`;
}
