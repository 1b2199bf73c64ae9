/**
 * Training spec → circom main proving one training commit: K SGD steps (src/training/executor.ts is
 * the bit-exact reference) from the parent weights on the committed data.
 *
 * Private inputs: w (parent weights), x[n·K][d], y[n·K], salt (with a frozen trunk, ./trunk.ts: x
 * holds the raw rows, x[n·K][d0] hashed at the trunk's input bits, and the steps read the features
 * xf, one trunk instance's outputs per row). Public inputs: the training statement of
 * ./statement.ts (parentHash, newHash, dataHash, metrics, binding — its order, its meaning). Here,
 * in circuit terms:
 *   parentHash = PackedHash(w, bw), newHash = PackedHash(new weights, bw),
 *   dataHash = Poseidon(Poseidon(PackedHash(x, bx), PackedHash(y, labelBits)), salt),
 *   metrics = correct | samples << 32, correct counting, over all n·K rows, those whose class
 *   (z >= 0, from the weights of the row's own step) equals the label (logistic, mlp; 0 for
 *   linear), and samples = n·K, fixed by the circuit — so a commit cannot overstate the samples a
 *   FedAvg merge weighs it by, and correct / samples is its training accuracy;
 *   binding enters one constraint (its square), which ties the proof to the author, repository,
 *   chain and contract ModelRepository derives it from.
 * (linear keeps sse, Σ err² over all rows at scale 2·sp, as an internal signal.)
 * The new weights are computed inside the circuit, never given: only the rule's result hashes to
 * newHash.
 * The general layered models (softmax regression, an mlp with `hidden`) share the commitments, the
 * statement and the between-step checks; their steps are ./networkCircuit.ts. Their labels are
 * constrained by their head: 0/1 (logistic), a one-hot of a class index in [0, k) (softmax: a label
 * out of range has no witness), none (linear targets, range-checked by the label hash).
 */
import crypto from "crypto";
import { toField } from "../quant/fixed";
import { decodeTrainingStatement, packMetrics, TRAINING_PUBLIC_SIGNALS } from "./statement";
import { commitData, commitWeights } from "./commitment";
import { CommitResult, trainCommit } from "./executor";
import { sigmoidTable } from "./sigmoid";
import { dataShape, headOf, isGeneral, labelBits, mlpOffsets, plan, TrainingPlan, TrainingSpec, updateNormBound } from "./spec";
import { netIncludes, netLabels, netMetric, netSteps, netTables, netTemplateName } from "./networkCircuit";
import { featureSignal, trunkRows, trunkTemplate } from "./trunk";

const sha256Hex = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

export interface GeneratedTrainingCircuit {
  source: string;
  templateName: string;
  /** Names of the public signals in order (outputs first, then public inputs). */
  publicSignals: string[];
}

function header(includes: string[]): string[] {
  return ["pragma circom 2.1.6;", "", ...includes.map((i) => `include "${i}";`), ""];
}

const list = (v: readonly bigint[]) => `[${v.join(", ")}]`;

/** Data and parent commitments, the weight array wk[0..K] with wk[0] = w, and the final hash. */
function commitments(s: TrainingSpec, p: TrainingPlan, L: (line: string) => void): void {
  const R = s.n * s.K;
  // The committed rows: the features, or a frozen trunk's raw inputs (range-checked here, for the trunk too).
  const { width, bits } = dataShape(s);
  L(`component hx = PackedHash(${R * width}, ${bits});`);
  L(`for (var i = 0; i < ${R}; i++) { for (var l = 0; l < ${width}; l++) { hx.in[i * ${width} + l] <== x[i][l]; } }`);
  L(`component hy = PackedHash(${R}, ${labelBits(s)});`);
  L(`for (var i = 0; i < ${R}; i++) { hy.in[i] <== y[i]; }`);
  if (isGeneral(s)) netLabels(s, L);
  else if (s.kind !== "linear") L(`for (var i = 0; i < ${R}; i++) { y[i] * (y[i] - 1) === 0; }`);
  L(`component hd = Poseidon(2);`);
  L(`hd.inputs[0] <== hx.out;`);
  L(`hd.inputs[1] <== hy.out;`);
  // The salt hides the digest: without it, low-entropy rows could be confirmed by hashing guesses.
  L(`component hs = Poseidon(2);`);
  L(`hs.inputs[0] <== hd.out;`);
  L(`hs.inputs[1] <== salt;`);
  L(`dataHash === hs.out;`);
  L(`component hp = PackedHash(${p.params}, ${s.bw});`);
  L(`for (var j = 0; j < ${p.params}; j++) { hp.in[j] <== w[j]; }`);
  L(`parentHash === hp.out;`);
  L(`signal wk[${s.K + 1}][${p.params}];`);
  L(`for (var j = 0; j < ${p.params}; j++) { wk[0][j] <== w[j]; }`);
}

function finish(s: TrainingSpec, p: TrainingPlan, L: (line: string) => void): void {
  if (s.K > 1) {
    // Weights between steps stay in bw bits, as the executor requires (the final ones: PackedHash).
    L(`component mid[${s.K - 1}][${p.params}];`);
    L(`for (var k = 1; k < ${s.K}; k++) { for (var j = 0; j < ${p.params}; j++) {`);
    L(`    mid[k - 1][j] = Num2Bits(${s.bw}); mid[k - 1][j].in <== wk[k][j] + ${1n << BigInt(s.bw - 1)};`);
    L(`} }`);
  }
  L(`component hn = PackedHash(${p.params}, ${s.bw});`);
  L(`for (var j = 0; j < ${p.params}; j++) { hn.in[j] <== wk[${s.K}][j]; }`);
  L(`newHash === hn.out;`);
  const nb = updateNormBound(s);
  if (nb) {
    // ||Δ||² <= bound: bound - Σ Δ² is non-negative and below 2^bits; a larger sum wraps to p - small, which no bits-bit value equals.
    L(`signal du[${p.params}];`);
    L(`var dsum = 0;`);
    L(`for (var j = 0; j < ${p.params}; j++) { du[j] <== (wk[${s.K}][j] - w[j]) * (wk[${s.K}][j] - w[j]); dsum += du[j]; }`);
    L(`component normBound = Num2Bits(${nb.bits});`);
    L(`normBound.in <== ${nb.bound} - dsum;`);
  }
}

/** The sigmoid of the output (clamped z → probability) and err, shared by logistic and mlp. */
function sigmoidOut(s: TrainingSpec, p: TrainingPlan, L: (line: string) => void, acc: string, row: string): void {
  L(`    z[k][i] = RescaleClamp(${p.zBits}, ${p.zShift}, ${s.bz});`);
  L(`    z[k][i].in <== ${acc};`);
  L(`    sig[k][i] = SigmoidPL(${s.bz}, ${s.segBits}, ${sigmoidTable(s).guard}, ${s.bp}, ta, td);`);
  L(`    sig[k][i].in <== z[k][i].out;`);
  L(`    err[k][i] <== sig[k][i].out - y[${row}] * ${1n << BigInt(s.sp)};`);
}

/** Over all K steps, so that correct / samples (samples = n·K) is an accuracy. */
function metric(s: TrainingSpec, L: (line: string) => void): void {
  if (s.kind === "linear") {
    L(`signal sq[${s.K}][${s.n}];`);
    L(`var total = 0;`);
    L(`for (var k = 0; k < ${s.K}; k++) { for (var i = 0; i < ${s.n}; i++) { sq[k][i] <== err[k][i] * err[k][i]; total += sq[k][i]; } }`);
    L(`sse <== total;`);
  } else {
    // [pos = y] = 1 - pos - y + 2·pos·y for bits pos, y.
    L(`signal hit[${s.K}][${s.n}];`);
    L(`var total = 0;`);
    L(`for (var k = 0; k < ${s.K}; k++) { for (var i = 0; i < ${s.n}; i++) {`);
    L(`    hit[k][i] <== z[k][i].pos * y[k * ${s.n} + i]; total += 1 - z[k][i].pos - y[k * ${s.n} + i] + 2 * hit[k][i];`);
    L(`} }`);
    L(`correct <== total;`);
  }
}

function glmSteps(s: TrainingSpec, p: TrainingPlan, L: (line: string) => void): void {
  const { d, n, K } = s;
  const u = p.outUpdate;
  const x = featureSignal(s);
  L(`signal prod[${K}][${n}][${d}];`);
  L(`signal err[${K}][${n}];`);
  L(`signal ex[${K}][${n}][${d}];`);
  L(`component z[${K}][${n}];`);
  if (s.kind === "logistic") L(`component sig[${K}][${n}];`);
  L(`component upd[${K}][${d + 1}];`);
  L(`for (var k = 0; k < ${K}; k++) {`);
  L(`  for (var i = 0; i < ${n}; i++) {`);
  L(`    var acc = wk[k][${d}] * ${1n << BigInt(s.sx)};`);
  L(`    for (var l = 0; l < ${d}; l++) { prod[k][i][l] <== wk[k][l] * ${x}[k * ${n} + i][l]; acc += prod[k][i][l]; }`);
  if (s.kind === "logistic") {
    sigmoidOut(s, p, L, "acc", `k * ${n} + i`);
  } else {
    L(`    z[k][i] = RescaleSign(${s.bp}, ${p.zShift});`);
    L(`    z[k][i].in <== acc;`);
    L(`    err[k][i] <== z[k][i].out - y[k * ${n} + i];`);
  }
  L(`    for (var l = 0; l < ${d}; l++) { ex[k][i][l] <== err[k][i] * ${x}[k * ${n} + i][l]; }`);
  L(`  }`);
  L(`  for (var l = 0; l < ${d + 1}; l++) {`);
  L(`    var g = 0;`);
  L(`    for (var i = 0; i < ${n}; i++) {`);
  L(`      if (l < ${d}) { g += ex[k][i][l]; } else { g += err[k][i] * ${1n << BigInt(s.sx)}; }`);
  L(`    }`);
  L(`    upd[k][l] = RescaleAct(${s.bw + 1}, ${u.shift}, 0);`);
  L(`    upd[k][l].in <== ${u.mult} * g;`);
  L(`    wk[k + 1][l] <== wk[k][l] - upd[k][l].out;`);
  L(`  }`);
  L(`}`);
}

function mlpSteps(s: TrainingSpec, p: TrainingPlan, L: (line: string) => void): void {
  const { d, n, K } = s;
  const h = s.h!;
  const o = mlpOffsets(s);
  const row = `k * ${n} + i`;
  const x = featureSignal(s);
  L(`signal p1[${K}][${n}][${h}][${d}];`);
  L(`component a[${K}][${n}][${h}];`);
  L(`signal hid[${K}][${n}][${h}];`);
  L(`signal p2[${K}][${n}][${h}];`);
  L(`component z[${K}][${n}];`);
  L(`component sig[${K}][${n}];`);
  L(`signal err[${K}][${n}];`);
  L(`signal eh[${K}][${n}][${h}];`);
  L(`signal em[${K}][${n}][${h}];`);
  L(`signal dh[${K}][${n}][${h}];`);
  L(`signal dx[${K}][${n}][${h}][${d}];`);
  L(`component upd[${K}][${p.params}];`);
  L(`for (var k = 0; k < ${K}; k++) {`);
  L(`  for (var i = 0; i < ${n}; i++) {`);
  L(`    var acc = wk[k][${o.b2}] * ${1n << BigInt(s.sh)};`);
  L(`    for (var j = 0; j < ${h}; j++) {`);
  L(`      var acc1 = wk[k][${o.b1} + j] * ${1n << BigInt(s.sx)};`);
  L(`      for (var l = 0; l < ${d}; l++) { p1[k][i][j][l] <== wk[k][j * ${d} + l] * ${x}[${row}][l]; acc1 += p1[k][i][j][l]; }`);
  L(`      a[k][i][j] = RescaleSign(${p.hBits}, ${p.hShift});`);
  L(`      a[k][i][j].in <== acc1;`);
  L(`      hid[k][i][j] <== a[k][i][j].out * a[k][i][j].pos;`);
  L(`      p2[k][i][j] <== wk[k][${o.w2} + j] * hid[k][i][j];`);
  L(`      acc += p2[k][i][j];`);
  L(`    }`);
  sigmoidOut(s, p, L, "acc", row);
  L(`    for (var j = 0; j < ${h}; j++) {`);
  L(`      eh[k][i][j] <== err[k][i] * hid[k][i][j];`);
  L(`      em[k][i][j] <== err[k][i] * a[k][i][j].pos;`);
  L(`      dh[k][i][j] <== em[k][i][j] * wk[k][${o.w2} + j];`);
  L(`      for (var l = 0; l < ${d}; l++) { dx[k][i][j][l] <== dh[k][i][j] * ${x}[${row}][l]; }`);
  L(`    }`);
  L(`  }`);
  const upd = (idx: string, rule: { mult: bigint; shift: number }, grad: string) => {
    L(`    upd[k][${idx}] = RescaleAct(${s.bw + 1}, ${rule.shift}, 0);`);
    L(`    upd[k][${idx}].in <== ${rule.mult} * ${grad};`);
    L(`    wk[k + 1][${idx}] <== wk[k][${idx}] - upd[k][${idx}].out;`);
  };
  L(`  for (var j = 0; j < ${h}; j++) {`);
  L(`    for (var l = 0; l < ${d}; l++) {`);
  L(`      var g = 0;`);
  L(`      for (var i = 0; i < ${n}; i++) { g += dx[k][i][j][l]; }`);
  upd(`j * ${d} + l`, p.hiddenUpdate, "g");
  L(`    }`);
  L(`    var gb = 0;`);
  L(`    var g2 = 0;`);
  L(`    for (var i = 0; i < ${n}; i++) { gb += dh[k][i][j] * ${1n << BigInt(s.sx)}; g2 += eh[k][i][j]; }`);
  upd(`${o.b1} + j`, p.hiddenUpdate, "gb");
  upd(`${o.w2} + j`, p.outUpdate, "g2");
  L(`  }`);
  L(`  var gb2 = 0;`);
  L(`  for (var i = 0; i < ${n}; i++) { gb2 += err[k][i] * ${1n << BigInt(s.sh)}; }`);
  upd(`${o.b2}`, p.outUpdate, "gb2");
  L(`}`);
}

export function trainingTemplateName(s: TrainingSpec): string {
  if (isGeneral(s)) return netTemplateName(s);
  return `FlavumTrain_${s.kind}_d${s.d}${s.kind === "mlp" ? `_h${s.h}` : ""}_n${s.n}_K${s.K}`;
}

export function generateTrainingCircuit(spec: TrainingSpec): GeneratedTrainingCircuit {
  const s = spec;
  const p = plan(s);
  const lines: string[] = [];
  const L = (line: string) => lines.push(`    ${line}`);
  const general = isGeneral(s);
  const head = headOf(s);
  const metricName = head === "linear" ? "sse" : "correct";
  const includes = ["circomlib/circuits/poseidon.circom", "circomlib/circuits/bitify.circom", "PackedHash.circom", "RescaleAct.circom"];
  if (general) includes.splice(0, includes.length, ...netIncludes(s));
  else if (s.kind === "linear") includes.push("RescaleSign.circom");
  else includes.push("RescaleClamp.circom", "SigmoidPL.circom");
  if (s.kind === "mlp" && !general) includes.push("RescaleSign.circom");
  const trunk = s.trunk ? trunkTemplate(s) : undefined;
  if (trunk) for (const i of trunk.includes) if (!includes.includes(i)) includes.push(i);
  const name = trainingTemplateName(s);

  L(`signal input parentHash;`);
  L(`signal input newHash;`);
  L(`signal input dataHash;`);
  L(`signal input metrics;`);
  L(`signal input binding;`);
  L(`signal input w[${p.params}];`);
  L(`signal input x[${s.n * s.K}][${dataShape(s).width}];`);
  L(`signal input y[${s.n * s.K}];`);
  L(`signal input salt;`);
  L(`signal ${metricName};`);
  // binding sits in a constraint of its own, so it stays bound to the proof whatever the back end:
  // snarkjs adds one per public input, but an optimizer or another prover need not.
  L(`signal bindingSq;`);
  L(`bindingSq <== binding * binding;`);
  L(``);
  if (head === "logistic") {
    const t = sigmoidTable(s);
    L(`var ta[${t.A.length}] = ${list(t.A)};`);
    L(`var td[${t.D.length}] = ${list(t.D)};`);
  }
  if (general) netTables(s, L);
  commitments(s, p, L);
  if (s.trunk) trunkRows(s, L);
  L(``);
  if (general) netSteps(s, p, L);
  else if (s.kind === "mlp") mlpSteps(s, p, L);
  else glmSteps(s, p, L);
  L(``);
  finish(s, p, L);
  if (general) netMetric(s, L);
  else metric(s, L);
  L(`metrics === ${head === "linear" ? "" : "correct + "}${s.n * s.K} * ${2 ** 32};`);

  const source = [
    ...header(includes),
    // The frozen trunk's template; the spec line names its graph by hash (the graph is the template).
    ...(trunk ? [trunk.template, ``] : []),
    `// Generated by src/training/circuit.ts for ${s.trunk ? JSON.stringify({ ...s, trunk: { ...s.trunk, qgraph: `sha256:${sha256Hex(s.trunk.qgraph)}` } }) : JSON.stringify(s)}.`,
    general
      ? `// lr = ${p.lrNum} / 2^${p.lrShift}; updates per layer (mult, shift): ${p.net!.layers.map((l) => `(${l.update.mult}, ${l.update.shift})`).join(", ")}`
      : `// lr = ${p.lrNum} / 2^${p.lrShift}; output update: mult ${p.outUpdate.mult}, shift ${p.outUpdate.shift}` +
        (s.kind === "mlp" ? `; hidden update: mult ${p.hiddenUpdate.mult}, shift ${p.hiddenUpdate.shift}` : ""),
    `template ${name}() {`,
    ...lines,
    `}`,
    ``,
    `component main {public [parentHash, newHash, dataHash, metrics, binding]} = ${name}();`,
    ``,
  ].join("\n");
  return { source, templateName: name, publicSignals: [...TRAINING_PUBLIC_SIGNALS] };
}

export interface TrainingWitnessInput {
  parentHash: string;
  newHash: string;
  dataHash: string;
  metrics: string;
  binding: string;
  w: string[];
  x: string[][];
  y: string[];
  salt: string;
}

/** What ties a commit to its pusher and hides its data: see statement.ts. */
export interface TrainingSecrets {
  /** trainingBinding(chain, contract, repository, author): the proof is valid for that push only. */
  binding: bigint;
  /** The data salt (newDataSalt()); kept by the contributor, never sent. */
  salt: bigint;
}

/**
 * The circuit input for one commit, with the executor's result (its weights hash to newHash, and
 * `correct` / `sse` equal the circuit's output). Throws before proving if any value would leave
 * its range.
 */
export async function trainingCircuitInput(
  spec: TrainingSpec, parent: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[], secrets: TrainingSecrets,
): Promise<{ input: TrainingWitnessInput; result: CommitResult; publicSignals: bigint[] }> {
  const result = trainCommit(spec, parent, X, y);
  const parentHash = await commitWeights(spec, parent);
  const newHash = await commitWeights(spec, result.weights);
  const dataHash = await commitData(spec, X, y, secrets.salt);
  const binding = toField(secrets.binding);
  const str = (v: bigint) => toField(v).toString();
  const metrics = packMetrics(headOf(spec) === "linear" ? 0 : result.correct, spec.n * spec.K);
  const input: TrainingWitnessInput = {
    parentHash: parentHash.toString(), newHash: newHash.toString(), dataHash: dataHash.toString(), metrics: metrics.toString(),
    binding: binding.toString(), w: parent.map(str), x: X.map((r) => r.map(str)), y: y.map(str), salt: secrets.salt.toString(),
  };
  return { input, result, publicSignals: [parentHash, newHash, dataHash, metrics, binding] };
}

/** Reads the training metric back from a proof's public signals (in generateTrainingCircuit's order). */
export function decodeTrainingSignals(spec: TrainingSpec, signals: readonly (string | bigint)[]) {
  const t = decodeTrainingStatement(signals);
  return {
    parentHash: t.parentWeightsHash, newHash: t.newWeightsHash, dataHash: t.dataHash, binding: t.binding,
    correct: headOf(spec) === "linear" ? undefined : t.correct,
    samples: t.samples,
  };
}
