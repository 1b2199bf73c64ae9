/** The benchmark's printed tables (stdout), built from the same object `--json` prints. */
import type { ModelResult } from "./models";
import { QUANT_TOLERANCE, type CorpusSummary } from "./corpus";
import type { OpError } from "./ops";
import { GAS_TARGET_B32, type RollupSummary } from "./rollup";
import type { ReposSummary } from "./repos";
import type { FederatedSummary } from "./federated";
import { formatPublish, PublishSummary } from "./publish";
import { formatRepoRollup, type RepoRollupSummary } from "./repoRollup";
import type { MinaAnchorSummary } from "./minaAnchor";
import { formatMultichain, type MultichainSummary } from "./multichain";
import type { StateSummary } from "./state";
import type { TraceStoreRow } from "./traceStores";
import { CeremonySummary, formatCeremony } from "./ceremony";
import { formatWitness, type WitnessSummary } from "./witness";
import { formatProvers, type ProversSummary } from "./provers";
import { formatNode, type NodeSummary } from "./node";

export interface BenchReport {
  date: string;
  machine: { node: string; cpus: number; platform: string };
  options: Record<string, unknown>;
  models: ModelResult[];
  rollup?: RollupSummary;
  state?: StateSummary;
  traceStores?: TraceStoreRow[];
  repos?: ReposSummary;
  federated?: FederatedSummary;
  publish?: PublishSummary;
  repoRollup?: RepoRollupSummary;
  minaAnchor?: MinaAnchorSummary;
  multichain?: MultichainSummary;
  ceremony?: CeremonySummary;
  witness?: WitnessSummary;
  provers?: ProversSummary;
  node?: NodeSummary;
  corpus?: CorpusSummary;
  ops?: OpError[];
  notes: string[];
  totalMs: number;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const width = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  // Numbers right-aligned; the first column (names) and a trailing free-text column left-aligned.
  const left = (i: number) => i === 0 || head[i] === "call" || (i === head.length - 1 && /reason|note/i.test(head[i]));
  const line = (r: string[]) => r.map((c, i) => (left(i) ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ").trimEnd();
  return [line(cells[0]), width.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const int = (v?: number) => (v === undefined || Number.isNaN(v) ? "—" : Math.round(v).toLocaleString("en-US"));
const pct = (v?: number) => (v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const gas = (g?: { tx: number; exec: number }) => (g ? `${int(g.tx)} (${int(g.exec)})` : "—");

function formatModels(r: BenchReport, out: string[]): void {
  out.push("");
  out.push("Flavum circuits (times: median of the proofs; gas: verifyProof as a transaction, execution only in brackets)");
  out.push(
    table(
      ["model", "weights", "constraints", "of which commitments", "ptau", "witness ms", "prove ms", "verify gas"],
      r.models.map((m) => [
        m.name, m.weights, int(m.constraints), int(m.commitmentConstraints), m.power ? `2^${m.power}` : "—",
        int(m.witnessMs), int(m.proveMs), gas(m.verifyGas),
      ]),
    ),
  );
  out.push("");
  out.push("Baseline of the same quantized model (circomlib-ml/keras2circom style), and Flavum / baseline constraints");
  out.push(
    table(
      ["model", "constraints", "ptau", "witness ms", "prove ms", "verify gas", "ours/baseline", "w/o commitments"],
      r.models.map((m) => [
        m.name, int(m.baseline?.constraints), m.baseline ? `2^${m.baseline.power}` : "—", int(m.baseline?.witnessMs),
        int(m.baseline?.proveMs), gas(m.baseline?.verifyGas), m.ratio === undefined ? "—" : pct(m.ratio),
        m.ratioWithoutCommitments === undefined ? "—" : pct(m.ratioWithoutCommitments),
      ]),
    ),
  );
  out.push("");
  out.push("Held-out fidelity (quantized integer executor vs onnxruntime float)");
  const fid = r.models.filter((m) => m.weights === "public" || !r.models.some((x) => x.fixture === m.fixture && x.weights === "public"));
  out.push(
    table(
      ["model", "samples", "agreement", "acc. quantized", "acc. float", "max |err|", "overflows"],
      fid.map((m) => [
        m.fixture, m.fidelity?.samples ?? "—", pct(m.fidelity?.agreement), pct(m.fidelity?.quantAccuracy), pct(m.fidelity?.floatAccuracy),
        m.fidelity?.maxAbsError == null ? "n/a (ArgMax head)" : m.fidelity.maxAbsError.toPrecision(3), m.fidelity?.overflows ?? "—",
      ]),
    ),
  );
  const problems = r.models.flatMap((m) => [
    ...(m.error ? [`${m.name}: ${m.error}`] : []),
    ...(m.baselineError && m.weights === "public" ? [`${m.fixture} baseline: ${m.baselineError}`] : []),
    ...(m.baseline?.note && m.weights === "public" ? [`${m.fixture} baseline: ${m.baseline.note}`] : []),
    ...(m.baseline && !m.baseline.matchesExecutor && m.weights === "public" ? [`${m.fixture} baseline: outputs DIFFER from the executor`] : []),
  ]);
  if (problems.length) out.push("", ...problems.map((p) => `note: ${p}`));
}

const secs = (ms?: number, digits = 1) => (ms === undefined ? "—" : (ms / 1000).toFixed(digits));

function formatRollup(ru: RollupSummary, out: string[]): void {
  out.push("");
  out.push(
    `Rollup: per row a fresh rollup and two full batches of B held-out requests (prove = witness + prove; gas = submitBatch gasUsed ` +
      `of the second batch, every batch after a model's first; first batch = the model's first, which creates its trace slots; ` +
      `available ptau 2^${ru.maxPower})`,
  );
  out.push(
    table(
      ["model", "B", "constraints", "ptau", "prove s", "submitBatch gas", "first batch", "gas / inference", "unbound / inference", "prove s / inference", "note"],
      ru.rows.map((x) => [
        x.model, x.batchSize, x.constraints === undefined ? "—" : `${x.estimated ? "≈" : ""}${int(x.constraints)}`,
        x.power ? `2^${x.power}` : "—", secs(x.proveMs), int(x.gas), int(x.firstBatchGas), int(x.gasPerInference), int(x.unboundGasPerInference),
        secs(x.proveMsPerInference, 2),
        x.error ? `failed: ${x.error}` : x.note ?? "",
      ]),
    ),
  );
  for (const c of ru.comparison) {
    if (c.singleVerifyGas === undefined || c.bestGasPerInference === undefined) continue;
    out.push(
      `  ${c.model}: one Groth16 proof per inference = ${int(c.singleVerifyGas)} gas (its verifyProof as a transaction, measured); ` +
        `batched at B = ${c.bestBatch}: ${int(c.bestGasPerInference)} gas per inference, ${c.saving!.toFixed(1)}× less`,
    );
  }
  const t = ru.targets;
  for (const g of t.gasPerInferenceB32)
    out.push(
      `  target ≤ ${int(GAS_TARGET_B32)} gas per verified inference at B = 32 with the trace bound, ${g.model}: ` +
        (g.gasPerInference !== undefined ? `${int(g.gasPerInference)} — ${g.met ? "met" : "NOT met"}` : `not measured (${g.note ?? "—"})`),
    );
  for (const p of t.mlpProveSecondsPerInference)
    out.push(
      `  target ≤ 1 s proving per inference, mlp_digits at B = ${p.batchSize}: ` +
        (p.seconds !== undefined ? `${p.seconds.toFixed(2)} s — ${p.met ? "met" : "NOT met"}` : "not measured"),
    );
  if (ru.notes.length) out.push(...ru.notes.map((n) => `  note: ${n}`));
}

function formatState(st: StateSummary, out: string[]): void {
  out.push("");
  out.push(
    `Rollup state circuits, depth ${st.depth} (constraints from the compiled r1cs; compile = circom2 --O2, setup = Groth16 phase 2, ` +
      `prove = median groth16 prove of full batches of N deposits, batch = median runStateBatch wall time; gas = submitStateBatch gasUsed, ` +
      `median of the batches after the contract's first; available ptau 2^${st.maxPower})`,
  );
  const main = st.circuits.filter((c) => !c.formulaOnly);
  const times = (c: (typeof main)[number]) => (c.timesFrom ? "*" : "");
  out.push(
    table(
      ["ops/batch", "constraints", "ptau", "compile s", "setup s", "proofs", "prove s", "batch s", "submitStateBatch gas", "first batch", "gas / op", "note"],
      main.map((c) => [
        c.opsPerBatch, int(c.constraints), c.power ? `2^${c.power}` : "—", `${secs(c.compileMs)}${times(c)}`,
        c.setupMs === undefined ? "—" : `${secs(c.setupMs)}${times(c)}`, c.batches ?? "—", secs(c.proveMs), secs(c.batchMs),
        int(c.gas), int(c.firstBatchGas), int(c.gasPerOp), c.error ? `failed: ${c.error}` : c.note ?? "",
      ]),
    ),
  );
  const earlier = main.filter((c) => c.timesFrom);
  if (earlier.length)
    out.push(`  * unchanged circuit: compile/setup times as measured by the run that built it (${earlier.map((c) => `N = ${c.opsPerBatch}: ${c.timesFrom}`).join("; ")})`);
  const f = st.formula;
  if (f) {
    const n = (v: number) => (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(2));
    const term = (v: number, what: string) => (v === 0 ? "" : ` ${v < 0 ? "−" : "+"} ${n(Math.abs(v))}${what}`);
    const chain = f.chain ? Object.entries(f.chain) : [];
    out.push(
      `  constraints per state batch: C(D, N) = N·(${n(f.perSlot)} + ${n(f.perSlotPerLevel)}·D)${term(f.constant, "")}${term(f.constantPerLevel, "·D")}` +
        `${chain.length ? " + PoseidonChain(5N)" : ""} (per slot: ${n(f.perSlot)} + ${n(f.perSlotPerLevel)} per tree level; solved exactly from ${f.derivedFrom}` +
        `${chain.length ? " less the chain" : ""}, the other sizes check it)`,
    );
    if (chain.length)
      out.push(`    PoseidonChain(5N) compiled alone (one Poseidon(16) per 15 elements, not linear in N): ${chain.map(([N, c]) => `N = ${N}: ${int(c)}`).join(", ")}`);
    for (const c of f.checks)
      out.push(
        `    D = ${c.depth}, N = ${c.opsPerBatch}: compiled ${int(c.compiled)}, formula ${n(c.formula)}${c.usedToSolve ? " (solved from)" : c.formula === c.compiled ? " (check: exact)" : ` (check: off by ${n(c.formula - c.compiled)})`}` +
          (c.project !== undefined ? `; src/codegen/stateCircuit.ts stateConstraints ${int(c.project)}${c.project === c.compiled ? " (=)" : ` (off by ${int(c.project - c.compiled)})`}` : ""),
      );
  } else if (st.formulaNote) out.push(`  constraint formula not derived: ${st.formulaNote}`);
  if (st.gas.length) {
    const g = st.gasDeployment!;
    out.push("");
    out.push(
      `FlavumState operations (gasUsed of each transaction; deployRollup + deployState at depth ${g.depth}, ${g.opsPerBatch} operations per batch, ` +
        `deadline ${g.deadline} blocks; content = logreg_cancer's quantized held-out samples)`,
    );
    out.push(table(["operation", "call", "gas", "note"], st.gas.map((x) => [x.op, x.call, int(x.gas), x.note ?? ""])));
  }
  if (st.notes.length) out.push(...st.notes.map((n) => `  note: ${n}`));
}

function formatRepos(rp: ReposSummary, out: string[]): void {
  out.push("");
  out.push(
    "Model repositories: one training commit (16 samples, 1 SGD step) and a FedAvg merge of 4 commits, real transactions on a " +
      "fresh ModelRepository (prove s = witness + prove, median; gas = gasUsed of pushCommit / merge; verify gas: verifyProof as a transaction, execution in brackets)",
  );
  out.push(
    table(
      ["model", "circuit", "params", "constraints", "ptau", "witness s", "prove s", "total s", "tx", "tx gas", "verify gas", "note"],
      rp.rows.map((x) => [
        x.kind, x.circuit, x.params, int(x.constraints), x.power ? `2^${x.power}` : "—", secs(x.witnessMs, 2), secs(x.proveMs, 2),
        secs(x.totalMs, 2), x.gasOf ?? "—", int(x.gas), gas(x.verifyGas),
        x.error ? `failed: ${x.error}` : x.note ?? (x.reused === false && x.setupMs !== undefined ? `keys built in ${secs(x.setupMs, 0)} s` : ""),
      ]),
    ),
  );
  if (rp.federated.length) {
    out.push("");
    out.push("Federated (4 contributors, fixed-point commits + FedAvg) vs central float training, breast-cancer test split");
    out.push(
      table(
        ["model", "rounds", "rows/commit", "federated acc.", "central epochs", "central acc.", "difference"],
        rp.federated.map((f) => [
          f.kind, f.rounds, f.rowsPerCommit, `${(100 * f.federatedAccuracy).toFixed(2)}%`, f.centralEpochs, `${(100 * f.centralAccuracy).toFixed(2)}%`,
          `${f.diffPoints >= 0 ? "+" : ""}${f.diffPoints.toFixed(2)} pts`,
        ]),
      ),
    );
  }
  if (rp.chains?.length) {
    out.push("");
    out.push("Training commits as chains of proofs (every row counts): one commit per row count, one epoch, n·K rows a proof; pushCommit verifies the whole chain");
    out.push(
      table(
        ["model", "rows", "rows/proof", "proofs", "prove s", "s/proof", "pushCommit gas", "gas/proof", "note"],
        rp.chains.map((c) => [
          c.kind, c.rows, c.chunkRows, c.proofs, secs(c.proveMs, 1), c.proveMs === undefined ? "—" : (c.proveMs / 1000 / c.proofs).toFixed(2),
          int(c.gas), c.gas === undefined ? "—" : int(Math.round(c.gas / c.proofs)), c.error ? `failed: ${c.error}` : "",
        ]),
      ),
    );
  }
  for (const t of rp.targets)
    out.push(
      `  target ≤ ${t.limit} s per ${t.what === "train" ? "training commit" : "FedAvg merge of 4"}, ${t.kind}: ` +
        (t.seconds !== undefined ? `${t.seconds.toFixed(2)} s — ${t.met ? "met" : "NOT met"}` : `not measured (${t.note})`),
    );
  for (const f of rp.federated)
    out.push(
      `  target federated within 2 points of central float, ${f.kind}: ${Math.abs(f.diffPoints).toFixed(2)} points — ${f.met ? "met" : "NOT met"}`,
    );
  if (rp.notes.length) out.push(...rp.notes.map((n) => `  note: ${n}`));
}

function formatFederated(f: FederatedSummary, out: string[]): void {
  const acc = (v: number) => `${(100 * v).toFixed(2)}%`;
  out.push("", "Digits repositories: one training proof (16 rows, one step) and one merge per rule (prove s = witness + prove of one real proof)");
  out.push(
    table(
      ["architecture", "params", "circuit", "constraints", "ptau", "prove s", "note"],
      f.architectures.flatMap((a) => [
        [a.architecture, a.params, "train step", int(a.trainConstraints), `2^${a.trainPower}`, secs(a.trainProveMs, 1), a.note ?? ""],
        ...a.merges.map((m) => [a.architecture, a.params, `${m.rule} merge of ${m.k}`, int(m.constraints), `2^${m.power}`, secs(m.proveMs, 1), m.note ?? ""]),
      ]),
    ),
  );
  out.push("", "Federated (fixed-point commits of one epoch each + FedAvg, per round) vs central float SGD, digits held-out split (540 rows)");
  out.push(
    table(
      ["architecture", "contributors", "rows each", "rounds", "federated", "central", "difference", "within 2 pts"],
      f.federated.map((r) => [r.architecture, r.contributors, r.rowsPerContributor, r.rounds, acc(r.federatedAccuracy), acc(r.centralAccuracy),
        `${r.diffPoints >= 0 ? "+" : ""}${r.diffPoints.toFixed(2)} pts`, r.met ? "yes" : "NO"]),
    ),
  );
  out.push("", "One poisoned contributor of 5 (flip: shifted labels, 8 epochs a round; amplify: shifted labels on pixels at the range edge): held-out accuracy after the merges");
  out.push(table(["architecture", "attack", "rule", "poisoned", "clean"], f.poisoned.map((p) => [p.architecture, p.attack, p.rule, acc(p.poisonedAccuracy), acc(p.cleanAccuracy)])));
  if (f.bound.length) {
    out.push("", "The update-norm bound, set 10% above the largest proof update of a clean run: proofs it refuses");
    out.push(
      table(
        ["architecture", "attack", "bound", "honest max", "poisoned median", "honest refused", "poisoned refused"],
        f.bound.map((b) => [b.architecture, b.attack, b.bound.toFixed(4), b.honestMaxNorm.toFixed(4), b.poisonedMedianNorm.toFixed(4), `${b.honestRefused} / ${b.honestProofs}`, `${b.poisonedRefused} / ${b.poisonedProofs}`]),
      ),
    );
  }
  out.push(...f.notes.map((n) => `  note: ${n}`));
}

function formatTraceStores(rows: TraceStoreRow[], out: string[]): void {
  out.push(
    "",
    "Inference on data points per trace store (logreg_cancer; B data points deposited, an on-chain request on each, one full batch of B;",
    "settle = the batch's settlement gasUsed, deliver = fulfil (calldata) or fulfillFromBatch (blob, ipfs) per request, median; ipfs: 2-of-3 committee)",
    table(
      ["store", "B", "settle gas", "per inference", "deliver gas", "with delivery, per inference", "blob gas", "trace bytes", "note"],
      rows.map((r) => [r.mode, r.batchSize, int(r.submitGas), int(r.gasPerInference), int(r.deliverGas), int(r.gasPerDeliveredInference), int(r.blobGas), int(r.traceBytes), r.error ?? ""]),
    ),
  );
}

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(`Flavum benchmark — ${r.date} — node ${r.machine.node}, ${r.machine.cpus} CPUs, ${r.machine.platform}`);
  if (r.models.length) formatModels(r, out);
  if (r.rollup) formatRollup(r.rollup, out);
  if (r.state) formatState(r.state, out);
  if (r.traceStores) formatTraceStores(r.traceStores, out);
  if (r.repos) formatRepos(r.repos, out);
  if (r.federated) formatFederated(r.federated, out);
  if (r.publish) out.push("", formatPublish(r.publish));
  if (r.repoRollup) out.push("", formatRepoRollup(r.repoRollup));
  if (r.minaAnchor) {
    const m = r.minaAnchor;
    out.push("", `Anchoring a root in Mina (${m.ledger}, o1js ${m.o1js}): compile ${(m.compileMs / 1000).toFixed(1)} s (cache ${m.compileCache}), ` +
      `anchor circuit ${m.anchorRows} rows; one anchor ${(m.anchorMs / 1000).toFixed(1)} s (prove ${(m.proveMs / 1000).toFixed(1)} s), ` +
      `${m.txBytes} bytes, fee ${m.feeMina} MINA (deploy: ${m.accountCreationFeeMina} MINA account creation, once); history read back ${m.historyOk ? "ok" : "WRONG"}`);
  }
  if (r.multichain) out.push("", formatMultichain(r.multichain));
  if (r.ceremony) formatCeremony(r.ceremony, out);
  if (r.witness) formatWitness(r.witness, out);
  if (r.provers) formatProvers(r.provers, out);
  if (r.node) formatNode(r.node, out);

  if (r.ops) {
    out.push("", "Non-linear operators against float64 (every 16-bit input over the range; tables span twice the range)");
    out.push(table(["  op", "range", "segments", "max |err|", "output steps"], r.ops.map((o) => [
      `  ${o.op}`, `[${o.range.join(", ")}]`, o.segments || "exact", o.maxAbsErr.toExponential(2), o.steps.toFixed(2),
    ])));
  }
  const c = r.corpus;
  if (c) {
    out.push("", `Peer corpus (${c.dir})`);
    if (c.missing) out.push(`  ${c.missing}`);
    else {
      out.push(`  models ${c.models}: imported ${c.imported}, unsupported ${c.unsupported}, errors ${c.errors}`);
      out.push(`  imported matching onnxruntime: ${c.matchesOrt}/${c.imported}; matching output_data: ${c.matchesOutputData}/${c.withOutputData} (with output_data)`);
      for (const m of c.mismatches)
        out.push(`    mismatch ${m.name}: ort diff ${m.ortMaxAbsDiff ?? "—"}, output_data diff ${m.outputDataMaxAbsDiff ?? "—"}${m.compareError ? `, ${m.compareError}` : ""}`);
      out.push("  unsupported, by op or reason:");
      for (const [k, v] of Object.entries(c.unsupportedBy).sort((a, b) => b[1].length - a[1].length))
        out.push(`    ${k} (${v.length}): ${v.join(", ")}`);
      for (const e of c.errorList) out.push(`  error ${e.name}: ${e.reason}`);
      if (c.prove) {
        const p = c.prove;
        out.push(
          `  compile + prove (calibrated on each model's input_data): proved ${p.proved}/${p.attempted}, ` +
            `proof outputs = executor ${p.matchesExecutor}/${p.proved}, quantized class = onnxruntime ${p.quantSameClass}/${p.attempted}`,
        );
        out.push(`  by status: ${Object.entries(p.byStatus).map(([k, v]) => `${k} ${v}`).join(", ")}`);
        out.push(`  compiled, proved and matching (proof = executor, quantized within ${QUANT_TOLERANCE * 100}% of onnxruntime): ${p.provedAndMatching}/${c.models}`);
        out.push(
          table(
            ["  model", "status", "constraints", "before", "prove ms", "= executor", "quant max |err| (9 inputs)", "within ort", "vs output_data", "reason"],
            p.results.map((x) => [
              `  ${x.name}`, x.status, int(x.constraints),
              x.baselineConstraints === undefined || x.constraints === undefined ? "—" : `${int(x.baselineConstraints)} (${((x.constraints / x.baselineConstraints - 1) * 100).toFixed(0)}%)`,
              int(x.proveMs), x.matchesExecutor === undefined ? "—" : x.matchesExecutor ? "yes" : "NO",
              x.quantMaxAbsErr === undefined ? "—" : x.quantMaxAbsErr.toPrecision(3),
              x.quantWithin === undefined ? "—" : x.quantWithin ? "yes" : "NO",
              x.quantVsOutputData === undefined ? "—" : `${x.quantVsOutputData.toPrecision(3)}${x.quantWithinOutputData ? "" : " (over)"}`,
              x.reason ?? "",
            ]),
          ),
        );
      }
    }
  }
  if (r.notes.length) out.push("", ...r.notes.map((n) => `note: ${n}`));
  out.push("", `total ${(r.totalMs / 1000).toFixed(0)} s`);
  return out.join("\n");
}

/** JSON with bigints as strings (there are none today, but gas or field values may become bigint). */
export function toJson(r: BenchReport): string {
  return JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}
