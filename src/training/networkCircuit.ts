/**
 * The K SGD steps of a general layered model (softmax regression; an mlp with `hidden` and a
 * logistic, linear or softmax head) in circom: bit for bit the arithmetic of ./network.ts, with
 * plan().net's shifts, bounds and update rules. circuit.ts wraps it in the same commitments,
 * statement and between-step range checks as today's kinds.
 *
 * Signals, for step k, row i (data row k·n + i) and layer l (0 = the first, the last is the head):
 *   f{l}[k][i][u][j]   W_uj · in_j (forward products); in = x (layer 0) or a{l-1} (ReLU outputs)
 *   hs{l}[k][i][u]     RescaleSign of a hidden accumulator (its `pos` is the ReLU derivative)
 *   z[k][i] / z[k][i][c]  the head's rescale: RescaleClamp (logistic, softmax) or RescaleSign (linear)
 *   sig[k][i]          SigmoidPL (logistic); sm[k][i] SoftmaxPL (softmax); lab[r] LabelOneHot(k)
 *   err[k][i][c]       the output error p - y (scale sp)
 *   bq{l}, bs{l-1}, dl{l-1}  backprop into hidden layer l-1: Σ_u delta_u·W_uj, its RescaleAct, and
 *                      the delta after the ReLU derivative
 *   g{l}[k][i][u][j]   delta_u · in_j (gradient products); up{l}[k][u][j] SgdUpdate (j = fanIn: bias)
 *   hit[k][i]          softmax: IsZero(argmax - y)
 * Updates use SgdUpdate, whose quotient range is the weights' own range checks: every weight after
 * every step is range-checked (between steps here, the last ones by the new-weights PackedHash).
 */
import { sigmoidTable } from "./sigmoid";
import { softmaxTable } from "./softmax";
import { headOf, TrainingPlan, TrainingSpec } from "./spec";
import { featureSignal } from "./trunk";

type Emit = (line: string) => void;
const list = (v: readonly bigint[]) => `[${v.join(", ")}]`;

export function netTemplateName(s: TrainingSpec): string {
  if (s.kind === "softmax") return `FlavumTrain_softmax_d${s.d}_k${s.k}_n${s.n}_K${s.K}`;
  const head = headOf(s);
  return `FlavumTrain_mlp_d${s.d}_h${s.hidden!.join("x")}_${head}${head === "softmax" ? s.k : ""}_n${s.n}_K${s.K}`;
}

export function netIncludes(s: TrainingSpec): string[] {
  const head = headOf(s);
  const inc = ["circomlib/circuits/poseidon.circom", "circomlib/circuits/bitify.circom", "PackedHash.circom", "SgdUpdate.circom"];
  if (s.kind === "mlp") inc.push("RescaleSign.circom", "RescaleAct.circom");
  if (head === "logistic") inc.push("RescaleClamp.circom", "SigmoidPL.circom");
  if (head === "linear" && s.kind !== "mlp") inc.push("RescaleSign.circom");
  if (head === "softmax") inc.push("circomlib/circuits/comparators.circom", "RescaleClamp.circom", "SoftmaxPL.circom", "LabelOneHot.circom");
  return inc;
}

/** The softmax tables as circom vars (the sigmoid's are emitted by circuit.ts). */
export function netTables(s: TrainingSpec, L: Emit): void {
  if (headOf(s) !== "softmax") return;
  const t = softmaxTable(s);
  L(`var th[${t.H.length}] = ${list(t.H)};`);
  L(`var tt[${t.T.length}] = ${list(t.T)};`);
}

/** Label constraints: 0/1 for a logistic head, a one-hot of a class in [0, k) for softmax, none for linear. */
export function netLabels(s: TrainingSpec, L: Emit): void {
  const R = s.n * s.K;
  const head = headOf(s);
  if (head === "logistic") L(`for (var i = 0; i < ${R}; i++) { y[i] * (y[i] - 1) === 0; }`);
  if (head === "softmax") {
    L(`component lab[${R}];`);
    L(`for (var i = 0; i < ${R}; i++) { lab[i] = LabelOneHot(${s.k}); lab[i].in <== y[i]; }`);
  }
}

export function netSteps(s: TrainingSpec, p: TrainingPlan, L: Emit): void {
  const net = p.net!;
  const layers = net.layers;
  const top = layers.length - 1;
  const { n, K } = s;
  const head = net.head;
  const outs = layers[top].fanOut;
  const row = `k * ${n} + i`;
  const x = featureSignal(s);
  const input = (l: number, j: string) => (l === 0 ? `${x}[${row}][${j}]` : `a${l - 1}[k][i][${j}]`);
  const delta = (l: number, u: string) => (l === top ? `err[k][i][${u}]` : `dl${l}[k][i][${u}]`);

  layers.forEach((ly, l) => {
    L(`signal f${l}[${K}][${n}][${ly.fanOut}][${ly.fanIn}];`);
    L(`signal g${l}[${K}][${n}][${ly.fanOut}][${ly.fanIn}];`);
    L(`component up${l}[${K}][${ly.fanOut}][${ly.fanIn + 1}];`);
    if (l < top) {
      L(`component hs${l}[${K}][${n}][${ly.fanOut}];`);
      L(`signal a${l}[${K}][${n}][${ly.fanOut}];`);
      L(`component bs${l}[${K}][${n}][${ly.fanOut}];`);
      L(`signal dl${l}[${K}][${n}][${ly.fanOut}];`);
    }
    if (l > 0) L(`signal bq${l}[${K}][${n}][${ly.fanOut}][${ly.fanIn}];`);
  });
  L(`signal err[${K}][${n}][${outs}];`);
  if (head === "softmax") {
    L(`component z[${K}][${n}][${outs}];`);
    L(`component sm[${K}][${n}];`);
    L(`component hit[${K}][${n}];`);
  } else {
    L(`component z[${K}][${n}];`);
    if (head === "logistic") L(`component sig[${K}][${n}];`);
  }

  L(`for (var k = 0; k < ${K}; k++) {`);
  L(`  for (var i = 0; i < ${n}; i++) {`);
  layers.forEach((ly, l) => {
    const sIn = 1n << BigInt(ly.inScale);
    if (l === top && head === "softmax") {
      const t = softmaxTable(s);
      L(`    sm[k][i] = SoftmaxPL(${s.k}, ${s.bz}, ${s.be}, ${s.expSeg}, ${s.sp}, ${s.bp}, ${t.sumBits}, th, tt);`);
    }
    L(`    for (var u = 0; u < ${ly.fanOut}; u++) {`);
    L(`      var acc = wk[k][${ly.offB} + u] * ${sIn};`);
    L(`      for (var j = 0; j < ${ly.fanIn}; j++) { f${l}[k][i][u][j] <== wk[k][${ly.offW} + u * ${ly.fanIn} + j] * ${input(l, "j")}; acc += f${l}[k][i][u][j]; }`);
    if (l < top) {
      L(`      hs${l}[k][i][u] = RescaleSign(${ly.bits}, ${ly.shift});`);
      L(`      hs${l}[k][i][u].in <== acc;`);
      L(`      a${l}[k][i][u] <== hs${l}[k][i][u].out * hs${l}[k][i][u].pos;`);
    } else if (head === "logistic") {
      L(`      z[k][i] = RescaleClamp(${ly.bits}, ${ly.shift}, ${s.bz});`);
      L(`      z[k][i].in <== acc;`);
      L(`      sig[k][i] = SigmoidPL(${s.bz}, ${s.segBits}, ${sigmoidTable(s).guard}, ${s.bp}, ta, td);`);
      L(`      sig[k][i].in <== z[k][i].out;`);
      L(`      err[k][i][0] <== sig[k][i].out - y[${row}] * ${1n << BigInt(s.sp)};`);
    } else if (head === "linear") {
      L(`      z[k][i] = RescaleSign(${s.bp}, ${ly.shift});`);
      L(`      z[k][i].in <== acc;`);
      L(`      err[k][i][0] <== z[k][i].out - y[${row}];`);
    } else {
      L(`      z[k][i][u] = RescaleClamp(${ly.bits}, ${ly.shift}, ${s.bz});`);
      L(`      z[k][i][u].in <== acc;`);
      L(`      sm[k][i].in[u] <== z[k][i][u].out;`);
    }
    L(`    }`);
  });
  if (head === "softmax") {
    L(`    for (var c = 0; c < ${outs}; c++) { err[k][i][c] <== sm[k][i].out[c] - lab[${row}].out[c] * ${1n << BigInt(s.sp)}; }`);
    L(`    hit[k][i] = IsZero();`);
    L(`    hit[k][i].in <== sm[k][i].arg - y[${row}];`);
  }
  L(`  }`);

  // Backward, from the head down: first the deltas of the layer below (pre-step weights), then
  // this layer's gradients and updates.
  for (let l = top; l >= 0; l--) {
    const ly = layers[l];
    if (l > 0) {
      const b = layers[l - 1];
      L(`  for (var i = 0; i < ${n}; i++) {`);
      L(`    for (var j = 0; j < ${ly.fanIn}; j++) {`);
      L(`      var s = 0;`);
      L(`      for (var u = 0; u < ${ly.fanOut}; u++) { bq${l}[k][i][u][j] <== ${delta(l, "u")} * wk[k][${ly.offW} + u * ${ly.fanIn} + j]; s += bq${l}[k][i][u][j]; }`);
      L(`      bs${l - 1}[k][i][j] = RescaleAct(${b.bpBits}, ${b.bpShift}, 0);`);
      L(`      bs${l - 1}[k][i][j].in <== s;`);
      L(`      dl${l - 1}[k][i][j] <== bs${l - 1}[k][i][j].out * hs${l - 1}[k][i][j].pos;`);
      L(`    }`);
      L(`  }`);
    }
    const u = ly.update;
    const sIn = 1n << BigInt(ly.inScale);
    L(`  for (var u = 0; u < ${ly.fanOut}; u++) {`);
    L(`    for (var j = 0; j < ${ly.fanIn}; j++) {`);
    L(`      var g = 0;`);
    L(`      for (var i = 0; i < ${n}; i++) { g${l}[k][i][u][j] <== ${delta(l, "u")} * ${input(l, "j")}; g += g${l}[k][i][u][j]; }`);
    L(`      up${l}[k][u][j] = SgdUpdate(${u.shift});`);
    L(`      up${l}[k][u][j].w <== wk[k][${ly.offW} + u * ${ly.fanIn} + j];`);
    L(`      up${l}[k][u][j].g <== ${u.mult} * g;`);
    L(`      wk[k + 1][${ly.offW} + u * ${ly.fanIn} + j] <== up${l}[k][u][j].out;`);
    L(`    }`);
    L(`    var gb = 0;`);
    L(`    for (var i = 0; i < ${n}; i++) { gb += ${delta(l, "u")} * ${sIn}; }`);
    L(`    up${l}[k][u][${ly.fanIn}] = SgdUpdate(${u.shift});`);
    L(`    up${l}[k][u][${ly.fanIn}].w <== wk[k][${ly.offB} + u];`);
    L(`    up${l}[k][u][${ly.fanIn}].g <== ${u.mult} * gb;`);
    L(`    wk[k + 1][${ly.offB} + u] <== up${l}[k][u][${ly.fanIn}].out;`);
    L(`  }`);
  }
  L(`}`);
}

/** correct over all n·K rows (logistic: [z >= 0] = y; softmax: argmax = y), or sse for a linear head. */
export function netMetric(s: TrainingSpec, L: Emit): void {
  const head = headOf(s);
  L(`var total = 0;`);
  if (head === "linear") {
    L(`signal sq[${s.K}][${s.n}];`);
    L(`for (var k = 0; k < ${s.K}; k++) { for (var i = 0; i < ${s.n}; i++) { sq[k][i] <== err[k][i][0] * err[k][i][0]; total += sq[k][i]; } }`);
    L(`sse <== total;`);
  } else if (head === "logistic") {
    L(`signal hitp[${s.K}][${s.n}];`);
    L(`for (var k = 0; k < ${s.K}; k++) { for (var i = 0; i < ${s.n}; i++) {`);
    L(`    hitp[k][i] <== z[k][i].pos * y[k * ${s.n} + i]; total += 1 - z[k][i].pos - y[k * ${s.n} + i] + 2 * hitp[k][i];`);
    L(`} }`);
    L(`correct <== total;`);
  } else {
    L(`for (var k = 0; k < ${s.K}; k++) { for (var i = 0; i < ${s.n}; i++) { total += hit[k][i].out; } }`);
    L(`correct <== total;`);
  }
}
