/**
 * Rollup state figures, through the real path (deployRollup → deployState → FlavumState calls →
 * runStateBatch, real Groth16 proofs on the in-process Hardhat network):
 *   - for each operations-per-batch size N at the default tree depth (16): the state circuit's
 *     constraints (from its compiled r1cs), compile and setup time, and — where the available powers
 *     of tau suffice — the median proving time and submitStateBatch gas of full batches of N deposits.
 *     Sizes needing more than 2^maxPower are compiled once under build/bench/state/ for their size and
 *     reported as "not proven: needs 2^k", never timed;
 *   - the gas (receipt gasUsed) of every L1 operation of FlavumState on the default deployment
 *     (depth 16, 8 operations per batch), with logreg_cancer's quantized held-out samples as content;
 *   - the per-slot constraint formula C(D, N) = N·(a + b·D) + c, derived from compiled counts at two
 *     depths and two sizes, checked against every other compiled count.
 */
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Contract, parseEther, toBeHex, ZeroAddress } from "ethers";
import { FlavumError } from "../src/errors";
import { deployRollup, RollupDeployment } from "../src/chain/deployRollup";
import { DEFAULT_DEADLINE, DEFAULT_STATE, deployState, StateDeployment } from "../src/chain/deployState";
import { EvmStateLedger } from "../src/chain/evmState";
import { generateStateCircuit, stateConstraints } from "../src/codegen/stateCircuit";
import { loadModel } from "../src/model/artifacts";
import { readSamples } from "../src/model/samples";
import { opElements, STATE_PUBLIC_INPUTS } from "../src/protocol/stateBatch";
import { quantizeInput } from "../src/quant/intExec";
import { openSequencer, registerModel, resetStore } from "../src/rollup/service";
import { buildStateCircuit, statePaths, StateParameters } from "../src/rollup/stateBuild";
import { runStateBatch, SettledStateBatch } from "../src/rollup/stateSequencer";
import { rebuildState } from "../src/rollup/stateSync";
import { compileCircuit, KEY_FILES, powerFor, Progress, sourceHash } from "../src/zk";
import { repoRoot } from "../src/zk/paths";
import { benchDir, BenchOptions, errorMessage, median, progress, scoped } from "./common";
import { ptauFile } from "./rollup";

/** The model whose quantized held-out samples are the data points' content, and which serves requestInference. */
export const STATE_MODEL = "logreg_cancer";
/** The second depth the constraint formula is derived from (same sizes as the first two of `stateOps`). */
export const FORMULA_DEPTH = 8;

export interface StateBenchOptions {
  /** Rollup state figures (state circuits, state batches, FlavumState gas). */
  state: boolean;
  /** Operations per state batch to measure at `stateDepth` (powers of two). */
  stateOps: number[];
  stateDepth: number;
}

export function stateOptions(over: Partial<StateBenchOptions> = {}): StateBenchOptions {
  const env = process.env;
  return {
    state: over.state ?? env.BENCH_NO_STATE !== "1",
    stateOps: over.stateOps ?? (env.BENCH_STATE_OPS ?? "8,16,32").split(",").map(Number).filter((n) => n > 0),
    stateDepth: over.stateDepth ?? Number(env.BENCH_STATE_DEPTH ?? DEFAULT_STATE.depth),
  };
}

export function wantsState(opts: BenchOptions & StateBenchOptions): boolean {
  return opts.state && (!opts.only || opts.only.includes("state"));
}

export interface StateCircuitRow {
  depth: number;
  opsPerBatch: number;
  constraints?: number;
  wires?: number;
  /** Powers of tau the circuit needs (2^power). */
  power?: number;
  /** circom compile (r1cs + wasm), ms. */
  compileMs?: number;
  /** Groth16 setup (phase 2 from the ptau file), ms. */
  setupMs?: number;
  /** The compile/setup times come from the run that built the keys now reused (its date), not this run. */
  timesFrom?: string;
  /** Set up, proven and submitted. */
  measured: boolean;
  /** Full batches of N deposits proven and submitted. */
  batches?: number;
  /** Median groth16 prove (snarkjs) of those batches, ms, and every run. */
  proveMs?: number;
  proveRuns?: number[];
  /** Median wall time of runStateBatch (rebuild from L1 events, plan, witness, prove, submit), ms. */
  batchMs?: number;
  /** submitStateBatch gasUsed: the contract's first state batch, and the median of the later full batches. */
  firstBatchGas?: number;
  gas?: number;
  gasRuns?: number[];
  gasPerOp?: number;
  /** Only compiled for its size (the formula's second depth). */
  formulaOnly?: boolean;
  note?: string;
  error?: string;
}

export interface StateGasRow {
  op: string;
  /** The FlavumState function called. */
  call: string;
  gas?: number;
  note?: string;
}

export interface StateFormula {
  /** C(D, N) = N·(perSlot + perSlotPerLevel·D) + constant + constantPerLevel·D + chain[N]. */
  perSlot: number;
  perSlotPerLevel: number;
  constant: number;
  constantPerLevel: number;
  /** The PoseidonChain over the 5·N proven elements, compiled alone, by N (absent: the fit includes it). */
  chain?: Record<number, number>;
  /** From which compiled points it was solved, and how every compiled point compares (project: src's stateConstraints). */
  derivedFrom: string;
  checks: { depth: number; opsPerBatch: number; compiled: number; formula: number; usedToSolve: boolean; project?: number }[];
}

export interface StateSummary {
  depth: number;
  maxPower: number;
  ptau?: string;
  ops: number[];
  circuits: StateCircuitRow[];
  formula?: StateFormula;
  formulaNote?: string;
  /** Parameters of the deployment the operation gas was measured on. */
  gasDeployment?: StateParameters & { deadline: number };
  gas: StateGasRow[];
  notes: string[];
  totalMs: number;
}

const stateParams = (depth: number, opsPerBatch: number): StateParameters => ({ depth, opsPerBatch });
const fitsIn = (c: number, power: number) => powerFor(c, STATE_PUBLIC_INPUTS.length) <= power;
const needs = (c: number) => powerFor(c, STATE_PUBLIC_INPUTS.length);

/**
 * The generated source's hash says nothing of the circuits/lib templates it includes (StateOpStep,
 * Merkle, Rlc, ...): the bench's own records are keyed on both.
 */
function libHash(): string {
  const dir = path.join(repoRoot(), "circuits", "lib");
  const h = crypto.createHash("sha256");
  for (const n of fs.readdirSync(dir).filter((f) => f.endsWith(".circom")).sort()) h.update(`${n}\n`).update(fs.readFileSync(path.join(dir, n)));
  return h.digest("hex");
}

function recordHash(source: string): string {
  return crypto.createHash("sha256").update(`${sourceHash(source)}\n${libHash()}`).digest("hex");
}

/** What a bench run recorded about a state circuit it built (keys.json loses the times once they are reused). */
interface BuildRecord {
  hash: string;
  constraints: number;
  wires: number;
  compileMs: number;
  setupMs?: number;
  at: string;
}

function recordFile(p: StateParameters): string {
  return path.join(benchDir("state"), `d${p.depth}_n${p.opsPerBatch}.json`);
}

function readRecord(p: StateParameters, hash: string): BuildRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(recordFile(p), "utf8")) as BuildRecord;
    return r.hash === hash ? r : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(p: StateParameters, r: BuildRecord): void {
  fs.writeFileSync(recordFile(p), JSON.stringify(r, null, 2));
}

/** Keys of this exact source already built by buildStateCircuit (its keys.json and proving key). */
function builtKeys(p: StateParameters, hash: string): { constraints: number; wires: number } | undefined {
  try {
    const dir = statePaths(p).dir;
    const k = JSON.parse(fs.readFileSync(path.join(dir, KEY_FILES.info), "utf8"));
    if (k.hash === hash && fs.existsSync(path.join(dir, KEY_FILES.zkey))) return { constraints: k.constraints, wires: k.wires };
  } catch {
    /* not built */
  }
  return undefined;
}

/** Compiles the circuit once under build/bench/state/ for its size (no setup), reusing an unchanged compile. */
async function compileForSize(p: StateParameters, source: string, hash: string, log: Progress): Promise<BuildRecord> {
  const prior = readRecord(p, hash);
  if (prior) {
    log(`d${p.depth} n${p.opsPerBatch}: circuit unchanged since ${prior.at}: reusing its compiled size`);
    return prior;
  }
  const dir = benchDir("state", `d${p.depth}_n${p.opsPerBatch}`);
  const base = `state_d${p.depth}_n${p.opsPerBatch}`;
  const main = path.join(dir, `${base}.circom`);
  fs.writeFileSync(main, source);
  log(`d${p.depth} n${p.opsPerBatch}: compiling for its size only (≈${stateConstraints(p.depth, p.opsPerBatch).toLocaleString("en-US")} constraints expected; large sizes take minutes and GBs)`);
  const c = await compileCircuit(main, dir, { progress: log });
  const rec: BuildRecord = { hash, constraints: c.constraints, wires: c.wires, compileMs: Math.round(c.ms), at: new Date().toISOString() };
  writeRecord(p, rec);
  // Only the size is needed: the witness generator and symbols of a big circuit are hundreds of MB.
  for (const f of [c.wasm, c.sym]) fs.rmSync(f, { force: true });
  fs.rmSync(path.join(dir, `${base}_js`), { recursive: true, force: true });
  return rec;
}

interface Sizing {
  row: StateCircuitRow;
  /** Set up (keys under build/state/), so it can be deployed and proven. */
  setUp: boolean;
}

/** Constraints, compile and setup of one state circuit; sets it up only if it fits 2^ptau.power. */
async function sizeCircuit(p: StateParameters, ptau: { file: string; power: number } | undefined, log: Progress, setup: boolean): Promise<Sizing> {
  const row: StateCircuitRow = { depth: p.depth, opsPerBatch: p.opsPerBatch, measured: false, formulaOnly: !setup || undefined };
  const source = generateStateCircuit(p.depth, p.opsPerBatch).source;
  const hash = recordHash(source);
  const setSize = (constraints: number, wires: number) => {
    row.constraints = constraints;
    row.wires = wires;
    row.power = needs(constraints);
  };
  const notProven = () => `not proven: needs 2^${row.power}` + (ptau ? ` (available: 2^${ptau.power})` : " (no prepared powers of tau)");

  const record = readRecord(p, hash);
  // The project's keys are reused by the generated source's hash alone: trusted only for the sizes set up
  // here, and only with a record of this bench saying they were built from these templates.
  const keys = setup && record ? builtKeys(p, sourceHash(source)) : undefined;
  if (keys) setSize(keys.constraints, keys.wires);
  else if (record) setSize(record.constraints, record.wires);
  const known = row.constraints;
  const expected = known ?? stateConstraints(p.depth, p.opsPerBatch);
  const tryBuild = setup && ptau !== undefined && fitsIn(expected, ptau.power);

  if (!tryBuild) {
    const rec = record ?? (await compileForSize(p, source, hash, log));
    setSize(rec.constraints, rec.wires);
    row.compileMs = rec.compileMs;
    if (record) row.timesFrom = record.at;
    if (!setup) return { row, setUp: false };
    if (!ptau || !fitsIn(rec.constraints, ptau.power)) {
      row.note = notProven();
      return { row, setUp: false };
    }
    // The project's estimate said too big, the compiled size fits after all: set it up below.
  }

  try {
    log(`d${p.depth} n${p.opsPerBatch}: building the state circuit's keys with ${path.basename(ptau!.file)} (compile + Groth16 setup; minutes at 2^17)`);
    const b = await buildStateCircuit(p, log, ptau!.file);
    setSize(b.keys.constraints, b.keys.wires);
    if (b.keys.reused) {
      const r = readRecord(p, hash);
      row.compileMs = r?.compileMs;
      row.setupMs = r?.setupMs;
      row.timesFrom = r?.at ?? "an earlier build (times not recorded)";
      if (!r?.setupMs)
        row.note = `keys reused from build/state/ (same generated source) without a record of this bench for the current circuits/lib: delete ${statePaths(p).dir} for fresh figures`;
    } else {
      row.compileMs = Math.round(b.keys.circuitMs);
      row.setupMs = Math.round(b.keys.setupMs);
      writeRecord(p, { hash, constraints: b.keys.constraints, wires: b.keys.wires, compileMs: row.compileMs, setupMs: row.setupMs, at: new Date().toISOString() });
    }
    return { row, setUp: true };
  } catch (e) {
    if (!(e instanceof FlavumError && e.code === "PTAU_TOO_SMALL")) throw e;
    log(`d${p.depth} n${p.opsPerBatch}: does not fit 2^${ptau!.power}`);
    const rec = await compileForSize(p, source, hash, log);
    setSize(rec.constraints, rec.wires);
    row.compileMs = rec.compileMs;
    row.note = notProven();
    return { row, setUp: false };
  }
}

/** A held-out sample of the bench's logistic regression, quantized as a data point holds it. */
function contentSamples(): { values: bigint[]; bits: number }[] {
  const m = loadModel(STATE_MODEL);
  const inputs = readSamples(path.join(repoRoot(), "fixtures", "data", `${STATE_MODEL}.heldout.json`));
  return inputs.map((x) => ({ values: quantizeInput(m.q, x), bits: m.q.input.bits }));
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const r = await (await tx).wait();
  if (!r) throw new Error("no receipt");
  return Number(r.gasUsed);
}

interface Deployed {
  d: RollupDeployment;
  s: StateDeployment;
  ledger: EvmStateLedger;
  /** Data points deposited by the batch measurement (owned by account 1, 0.01 ETH each, all in the state). */
  dpIds: bigint[];
  depositGas: number[];
  next: number;
}

/** Fresh rollup + state of these parameters; `batches` full batches of N deposits, proven and submitted. */
async function measureBatches(
  hre: HardhatRuntimeEnvironment, row: StateCircuitRow, p: StateParameters, ptau: string, batches: number,
  samples: { values: bigint[]; bits: number }[], log: Progress,
): Promise<Deployed> {
  const N = p.opsPerBatch;
  const d = await deployRollup(hre);
  const s = await deployState(hre, d, { ...p, deadline: DEFAULT_DEADLINE, ptau });
  const ledger = await EvmStateLedger.connect(hre, s.addresses.state);
  const [, alice] = await hre.ethers.getSigners();
  const state = s.state.connect(alice);
  const dpIds: bigint[] = [];
  const depositGas: number[] = [];
  const prove: number[] = [];
  const wall: number[] = [];
  const gas: number[] = [];
  let next = 0;
  for (let b = 0; b < batches; b++) {
    for (let k = 0; k < N; k++) {
      const { values, bits } = samples[next++ % samples.length];
      dpIds.push(await state.deposit.staticCall(values, bits, false, { value: parseEther("0.01") }));
      depositGas.push(await gasOf(state.deposit(values, bits, false, { value: parseEther("0.01") })));
    }
    log(`d${p.depth} n${N}: batch ${b + 1}/${batches}: proving ${N} deposits`);
    const t0 = performance.now();
    const settled = await runStateBatch(ledger, { progress: log });
    wall.push(performance.now() - t0);
    if (!settled || settled.count !== N) throw new Error(`expected a full state batch of ${N}, got ${settled?.count ?? "none"}`);
    if (settled.status !== (1n << BigInt(N)) - 1n) throw new Error(`a deposit was proven invalid (status ${settled.status.toString(2)})`);
    prove.push(settled.proveMs);
    gas.push(Number(settled.gasUsed));
    log(`d${p.depth} n${N}: batch ${b + 1}: prove ${(settled.proveMs / 1000).toFixed(1)} s, submitStateBatch ${settled.gasUsed} gas`);
  }
  row.batches = batches;
  row.proveMs = Math.round(median(prove));
  row.proveRuns = prove.map(Math.round);
  row.batchMs = Math.round(median(wall));
  row.firstBatchGas = gas[0];
  row.gasRuns = gas;
  row.gas = gas.length > 1 ? Math.round(median(gas.slice(1))) : gas[0];
  row.gasPerOp = Math.round(row.gas / N);
  row.measured = true;
  return { d, s, ledger, dpIds, depositGas, next };
}

/** Gas of every FlavumState L1 operation, continuing on a deployment whose data points are in the state. */
async function measureOperations(hre: HardhatRuntimeEnvironment, dep: Deployed, p: StateParameters, samples: { values: bigint[]; bits: number }[], log: Progress): Promise<StateGasRow[]> {
  const { d, s, ledger, dpIds } = dep;
  if (dpIds.length < 3) throw new Error(`needs 3 data points in the state, has ${dpIds.length}`);
  const [, alice, bob] = await hre.ethers.getSigners();
  const asAlice = s.state.connect(alice);
  const asBob = s.state.connect(bob);
  const rows: StateGasRow[] = [];
  const add = (op: string, call: string, gas?: number, note?: string) => rows.push({ op, call, gas, note });
  const sample = () => samples[dep.next++ % samples.length];

  // A registered model for requestInference: logreg_cancer for batches of 1 (its input layout is the content's).
  const store = path.join(benchDir("state"), "sequencer.db");
  resetStore(store);
  const seq = await openSequencer(hre, { addresses: d.addresses, store, progress: log });
  let modelId: bigint;
  try {
    modelId = (await registerModel(seq, hre, STATE_MODEL, 1, log)).modelId;
  } finally {
    seq.store.close();
  }
  const fee = await d.rollup.estimateFee(modelId);

  // One state batch: the deposits (ETH, common, ERC-20) and three requests on data points already in the state.
  const owned = sample();
  const depositOwned = await gasOf(asAlice.deposit(owned.values, owned.bits, false, { value: parseEther("1") }));
  const common = sample();
  const commonId = await asAlice.deposit.staticCall(common.values, common.bits, true);
  const depositCommon = await gasOf(asAlice.deposit(common.values, common.bits, true));
  // The project's test ERC-20 (contracts/test/TestToken.sol), minted and approved first (not counted).
  let depositErc20: number | undefined;
  let erc20Note: string | undefined;
  try {
    const token = (await (await hre.ethers.getContractFactory("TestToken")).deploy()) as unknown as Contract;
    await (await token.mint(alice.address, 10n ** 18n)).wait();
    await (await (token.connect(alice) as Contract).approve(s.addresses.state, 10n ** 18n)).wait();
    const x = sample();
    depositErc20 = await gasOf(asAlice.depositERC20(x.values, x.bits, await token.getAddress(), 10n ** 18n));
  } catch (e) {
    erc20Note = `not measured: ${errorMessage(e)}`;
  }
  const [exitId, transferId, exodusId] = dpIds;
  const exit = await gasOf(asAlice.requestExit(exitId));
  const transfer = await gasOf(asAlice.requestTransfer(transferId, bob.address));
  const requestId = await asBob.requestInference.staticCall(modelId, commonId, ZeroAddress, { value: fee });
  const infer = await gasOf(asBob.requestInference(modelId, commonId, ZeroAddress, { value: fee }));
  const queued = depositErc20 === undefined ? 5 : 6;
  log(`operations: proving the state batch of these ${queued} (${queued - 3} deposits, exit, transfer, inference authorisation)`);
  const mixed: SettledStateBatch[] = [];
  for (;;) {
    const b = await runStateBatch(ledger, { progress: log });
    if (!b) break;
    if (b.status !== (1n << BigInt(b.count)) - 1n) throw new Error(`state batch ${b.stateBatch} proved an operation invalid (status ${b.status.toString(2)})`);
    mixed.push(b);
  }
  if (mixed.reduce((n, b) => n + b.count, 0) !== queued) throw new Error(`the state batches settled ${mixed.reduce((n, b) => n + b.count, 0)} operations, expected ${queued}`);
  if ((await d.rollup.requestOf(requestId)).status !== 1n) throw new Error(`inference request ${requestId} was not released to its model's queue`);

  const first = dep.depositGas[0];
  const later = dep.depositGas.slice(1);
  add("deposit: owned, with ETH", "deposit(values, bits, false){value}", depositOwned,
    `${owned.values.length} values of ${owned.bits} bits; the contract's very first deposit: ${first.toLocaleString("en-US")}; the ${later.length} batch-filling deposits: ` +
      `${Math.min(...later).toLocaleString("en-US")}–${Math.max(...later).toLocaleString("en-US")} (median ${median(later).toLocaleString("en-US")})`);
  add("deposit: common data point", "deposit(values, bits, true)", depositCommon);
  add("deposit: owned, with an ERC-20", "depositERC20", depositErc20,
    erc20Note ?? "contracts/test/TestToken.sol (OpenZeppelin ERC20), approved beforehand; balanceOf before/after + transferFrom");
  add("withdraw request (exit)", "requestExit", exit);
  add("transfer request", "requestTransfer", transfer);
  add("inference request on a common data point", "requestInference{fee}", infer, `by another account; opens an Authorizing request on the rollup (fee ${fee})`);

  // The exit is proven: its owner claims the token and the balance.
  const rebuilt = await rebuildState(await ledger.history(), p.depth, p.opsPerBatch);
  const e = rebuilt.exits.get(exitId);
  if (!e) throw new Error(`data point ${exitId}'s exit is not in the rebuilt state`);
  const claim = await gasOf(asAlice.claim(e.stateBatch, e.slot, exitId, e.leaf.contentHash, toBeHex(e.leaf.asset, 20), e.leaf.balance, e.path));
  add("claim an exited data point (token + balance)", "claim", claim, `exit-tree path of ${e.path.length}; mints the token, pays 0.01 ETH`);
  const redeposit = await gasOf(asAlice.depositToken(exitId, { value: parseEther("0.01") }));
  add("re-deposit a claimed token", "depositToken{value}", redeposit, "burns the token, queues its deposit");

  // The sequencer stops: a plain deposit waits with the re-deposit until the deadline passes.
  const waiting = sample();
  await gasOf(asBob.deposit(waiting.values, waiting.bits, false, { value: parseEther("0.5") }));
  const info = await ledger.info();
  const params = await ledger.parameters();
  await hre.network.provider.send("hardhat_mine", [`0x${(params.deadline + 1).toString(16)}`]);
  const exodus = await gasOf(asBob.activateExodus());
  add("activate exodus", "activateExodus", exodus, `after ${params.deadline} blocks with operations queued`);

  const last = await rebuildState(await ledger.history(), p.depth, p.opsPerBatch);
  const leaf = last.tree.dataPoint(exodusId);
  if (!leaf) throw new Error(`data point ${exodusId} is not in the last proven state`);
  const withdraw = await gasOf(asAlice.exodusWithdraw(exodusId, leaf.contentHash, toBeHex(leaf.asset, 20), leaf.balance, last.tree.siblings(exodusId)));
  add("exodus withdrawal", "exodusWithdraw", withdraw, `${p.depth} state-tree siblings; mints the token, pays 0.01 ETH`);

  const h = await ledger.history();
  const head = Number(info.opHead);
  const ops = h.ops.slice(head);
  const tokenOp = ops.findIndex((o) => o.dpId === exitId);
  const plainOp = ops.findIndex((o) => o.dpId !== exitId);
  if (tokenOp < 0 || plainOp < 0) throw new Error(`the queued operations are not the re-deposit and the deposit`);
  const refundPlain = await gasOf(asBob.exodusRefund(head + plainOp, opElements(ops[plainOp])));
  add("exodus refund of a queued deposit", "exodusRefund", refundPlain, "an ETH deposit never processed: pays 0.5 ETH back");
  const refundToken = await gasOf(asBob.exodusRefund(head + tokenOp, opElements(ops[tokenOp])));
  add("exodus refund of a queued re-deposit", "exodusRefund", refundToken, "mints the token back, pays its 0.01 ETH");
  if (mixed.length === 1)
    add(`state batch of ${queued} mixed operations`, "submitStateBatch", Number(mixed[0].gasUsed),
      `deposits (owned ETH, common${queued === 6 ? ", ERC-20" : ""}), exit, transfer, inference authorisation (releases the request to the model's queue); ` +
        `prove ${(mixed[0].proveMs / 1000).toFixed(1)} s`);
  return rows;
}

/**
 * The state circuit's one piece that is not linear in N: the PoseidonChain over the 5·N proven elements
 * (one Poseidon(16) per 15 of them and a shorter last one). Compiled alone, once per size, under
 * build/bench/state/ so the formula can take it out before fitting the linear rest.
 */
async function chainConstraints(opsPerBatch: number, log: Progress): Promise<number | undefined> {
  const source = generateStateCircuit(FORMULA_DEPTH, opsPerBatch).source;
  const n = [...source.matchAll(/=\s*PoseidonChain\((\d+)\)/g)].map((m) => Number(m[1]));
  if (n.length !== 1) return undefined;
  const main = `pragma circom 2.1.6;\n\ninclude "PoseidonChain.circom";\n\ncomponent main = PoseidonChain(${n[0]});\n`;
  const hash = recordHash(main);
  const file = path.join(benchDir("state"), `chain_${n[0]}.json`);
  try {
    const r = JSON.parse(fs.readFileSync(file, "utf8")) as BuildRecord;
    if (r.hash === hash) return r.constraints;
  } catch {
    /* not compiled yet */
  }
  const dir = benchDir("state", `chain_${n[0]}`);
  fs.writeFileSync(path.join(dir, `chain_${n[0]}.circom`), main);
  log(`PoseidonChain(${n[0]}) alone, for the constraint formula (N = ${opsPerBatch})`);
  const c = await compileCircuit(path.join(dir, `chain_${n[0]}.circom`), dir, { progress: log });
  fs.writeFileSync(file, JSON.stringify({ hash, constraints: c.constraints, wires: c.wires, compileMs: Math.round(c.ms), at: new Date().toISOString() }, null, 2));
  return c.constraints;
}

/**
 * C(D, N) = N·(a + b·D) + c + d·D + chain(N), solved exactly from two sizes at two depths after taking
 * out the compiled PoseidonChain of each size (the slope in N at each depth gives a and b, the
 * intercepts c and d); every other compiled point checks it.
 */
function deriveFormula(rows: StateCircuitRow[], depth: number, ops: number[], chain: Map<number, number>): { formula?: StateFormula; note?: string } {
  const ch = (N: number) => chain.get(N) ?? 0;
  const at = (D: number, N: number) => {
    const c = rows.find((r) => r.depth === D && r.opsPerBatch === N)?.constraints;
    return c === undefined ? undefined : c - ch(N);
  };
  const [n1, n2] = [...ops].sort((a, b) => a - b);
  const pts = [at(depth, n1), at(depth, n2), at(FORMULA_DEPTH, n1), at(FORMULA_DEPTH, n2)];
  if (n2 === undefined || pts.some((c) => c === undefined))
    return { note: `needs compiled counts at N = ${n1}, ${n2 ?? "a second size"} for depths ${depth} and ${FORMULA_DEPTH}` };
  const [c1, c2, c3, c4] = pts as number[];
  const slopeHi = (c2 - c1) / (n2 - n1);
  const slopeLo = (c4 - c3) / (n2 - n1);
  const b = (slopeHi - slopeLo) / (depth - FORMULA_DEPTH);
  const a = slopeHi - b * depth;
  const constHi = c1 - n1 * slopeHi;
  const constLo = c3 - n1 * slopeLo;
  const d = (constHi - constLo) / (depth - FORMULA_DEPTH);
  const c = constHi - d * depth;
  const used = (D: number, N: number) => (D === depth || D === FORMULA_DEPTH) && (N === n1 || N === n2);
  return {
    formula: {
      perSlot: a, perSlotPerLevel: b, constant: c, constantPerLevel: d,
      chain: chain.size ? Object.fromEntries(chain) : undefined,
      derivedFrom: `compiled counts at N = ${n1}, ${n2} for D = ${depth} and D = ${FORMULA_DEPTH}`,
      checks: rows.filter((r) => r.constraints !== undefined).map((r) => ({
        depth: r.depth, opsPerBatch: r.opsPerBatch, compiled: r.constraints!,
        formula: r.opsPerBatch * (a + b * r.depth) + c + d * r.depth + ch(r.opsPerBatch),
        usedToSolve: used(r.depth, r.opsPerBatch), project: stateConstraints(r.depth, r.opsPerBatch),
      })),
    },
  };
}

export async function benchState(hre: HardhatRuntimeEnvironment, opts: BenchOptions & StateBenchOptions, modelError?: string): Promise<StateSummary> {
  const start = performance.now();
  const depth = opts.stateDepth;
  const ops = [...opts.stateOps].sort((a, b) => a - b);
  const summary: StateSummary = { depth, maxPower: opts.maxPower, ops, circuits: [], gas: [], notes: [], totalMs: 0 };
  const ptau = ptauFile(opts.maxPower);
  summary.ptau = ptau?.file;
  if (!ptau) summary.notes.push(`no prepared powers of tau found (FLAVUM_PTAU / FLAVUM_PTAU_DIR): state circuits compiled for their size, nothing proven`);
  const log = scoped("state");
  const loadAtStart = os.loadavg()[0];
  const sourcesAtStart = libHash() + sourceHash(generateStateCircuit(depth, ops[0] ?? 1).source);
  let samples: { values: bigint[]; bits: number }[] | undefined;
  let samplesError = modelError;
  if (!samplesError)
    try {
      samples = contentSamples();
    } catch (e) {
      samplesError = errorMessage(e);
    }
  const gasOps = ops.includes(DEFAULT_STATE.opsPerBatch) ? DEFAULT_STATE.opsPerBatch : ops[0];
  let gasDone = false;
  let gasNote: string | undefined;

  for (const N of ops) {
    const p = stateParams(depth, N);
    let sized: Sizing;
    try {
      sized = await sizeCircuit(p, ptau, log, true);
    } catch (e) {
      const error = errorMessage(e);
      log(`d${depth} n${N}: failed: ${error}`);
      summary.circuits.push({ depth, opsPerBatch: N, measured: false, error });
      continue;
    }
    const row = sized.row;
    summary.circuits.push(row);
    log(`d${depth} n${N}: ${row.constraints?.toLocaleString("en-US")} constraints (2^${row.power})${row.note ? `: ${row.note}` : ""}`);
    if (N === gasOps && !sized.setUp)
      gasNote = `the state circuit of depth ${depth}, ${N} operations is not set up (${row.note ?? row.error ?? "—"})` +
        (row.power && row.power > opts.maxPower ? `; BENCH_MAX_POWER=${row.power} with a prepared 2^${row.power} ptau proves it` : "");
    if (!sized.setUp) continue;
    if (!samples) {
      row.error = `no content for the deposits: ${samplesError}`;
      if (N === gasOps) gasNote = row.error;
      continue;
    }
    let dep: Deployed;
    try {
      dep = await measureBatches(hre, row, p, ptau!.file, Math.max(2, opts.proofs), samples, log);
    } catch (e) {
      row.error = errorMessage(e);
      log(`d${depth} n${N}: failed: ${row.error}`);
      if (N === gasOps) gasNote = `the batch measurement failed: ${row.error}`;
      continue;
    }
    if (N !== gasOps) continue;
    try {
      summary.gas = await measureOperations(hre, dep, p, samples, log);
      summary.gasDeployment = { ...p, deadline: DEFAULT_DEADLINE };
      gasDone = true;
    } catch (e) {
      gasNote = `failed: ${errorMessage(e)}`;
      log(`operations: ${gasNote}`);
    }
  }
  if (!gasDone) summary.notes.push(`FlavumState operation gas not measured: ${gasNote ?? "no size measured"}`);

  // The formula's second depth: compiled only, for its size.
  const formulaOps = ops.slice(0, 2);
  if (depth !== FORMULA_DEPTH && formulaOps.length === 2)
    for (const N of formulaOps) {
      try {
        summary.circuits.push((await sizeCircuit(stateParams(FORMULA_DEPTH, N), ptau, log, false)).row);
      } catch (e) {
        summary.circuits.push({ depth: FORMULA_DEPTH, opsPerBatch: N, measured: false, formulaOnly: true, error: errorMessage(e) });
      }
    }
  const chain = new Map<number, number>();
  for (const N of ops)
    try {
      const c = await chainConstraints(N, log);
      if (c !== undefined) chain.set(N, c);
    } catch (e) {
      log(`PoseidonChain for N = ${N}: ${errorMessage(e)}`);
    }
  // Without every size's chain the linear fit would mix it in: fit the whole counts instead.
  const f = deriveFormula(summary.circuits, depth, ops, chain.size === ops.length ? chain : new Map());
  summary.formula = f.formula;
  summary.formulaNote = f.note;

  if (libHash() + sourceHash(generateStateCircuit(depth, ops[0] ?? 1).source) !== sourcesAtStart)
    summary.notes.push(`WARNING: circuits/lib or the state circuit generator changed during this run: the figures may mix two versions of the circuit`);
  summary.notes.push(
    `state circuits: constraints from the compiled r1cs (circom2 --O2); compile and setup timed by buildStateCircuit (src/rollup/stateBuild.ts) ` +
      `or, for sizes that are not set up, by a compile under build/bench/state/; ` +
      `an unchanged circuit (same generated source and circuits/lib) reuses the figures of the run that compiled it, marked *`,
    `each proven size: a fresh deployRollup + deployState (deadline ${DEFAULT_DEADLINE} blocks); ${Math.max(2, opts.proofs)} full batches of N owned ETH deposits ` +
      `(logreg_cancer's quantized held-out samples, 30 values each) through runStateBatch; prove = median groth16 prove; batch = median runStateBatch wall time ` +
      `(rebuild from L1 events, plan, witness, prove, submit); gas = median submitStateBatch gasUsed of the batches after the contract's first, first = the first`,
    `1-minute load average ${loadAtStart.toFixed(2)} at the start of this section, ${os.loadavg()[0].toFixed(2)} at its end (${os.cpus().length} CPUs): ` +
      `times are wall-clock on this machine and grow with whatever else runs on it`,
    `circuits needing more than 2^${ptau?.power ?? opts.maxPower}${ptau ? ` (${path.basename(ptau.file)}; BENCH_MAX_POWER=${opts.maxPower})` : ""} are compiled for their size and not proven; no time is extrapolated`,
  );
  summary.totalMs = Math.round(performance.now() - start);
  progress(`state: done in ${(summary.totalMs / 1000).toFixed(0)} s`);
  return summary;
}
