/**
 * A training commit as a chain of training proofs: every row of the contributor's file counts.
 *
 * The repository's circuit proves K SGD steps on n·K rows (its shape is fixed at creation). A file
 * of R rows trained for E epochs is cut into R / (n·K) consecutive chunks of n·K rows; proof i
 * trains chunk i mod (R / (n·K)) from the weights proof i - 1 produced (the parent commit's weights
 * for the first), epoch after epoch over the same rows: P = E · R / (n·K) proofs, parent → w_1 → … →
 * w_P. A remainder that does not fill a chunk is refused (no row is silently dropped, and padding
 * rows would be trained on as data). ModelRepository.pushCommit verifies the P proofs in one
 * transaction and records:
 *
 *   weightsHash  w_P's commitment (the last proof's newWeightsHash)
 *   dataHash     chainDataHash(d_1..d_P) = keccak256(d_1 ‖ … ‖ d_P) mod p, each d_i a 32-byte
 *                big-endian word: one field element committing to the sequence of the proofs' data
 *                commitments (IModelRepository.chainDataHash computes the same)
 *   samples      Σ samples_i = R · E (what a FedAvg merge weighs the commit by)
 *   correct      Σ correct_i
 *
 * Each chunk's data commitment is salted with a salt derived from the commit's one secret salt
 * (`chunkSalt`); a chunk keeps its salt across epochs, so the proofs of epoch 2 show the same data
 * commitments as epoch 1's — that the commit repeats its rows is public, the rows are not.
 */
import crypto from "crypto";
import { concat, keccak256 } from "ethers";
import { FlavumError, InputError } from "../errors";
import { FIELD_P } from "../quant/fixed";
import { decodeTrainingStatement, trainingCircuitInput, TrainingSpec } from "../training";
import { prove, verify, solidityCalldata, Progress } from "../zk";
import type { GrothCalldata, TrainingLinkCalldata } from "../chain/evmRepos";

export interface ChainPlan {
  /** Rows of the file, each trained on once an epoch. */
  rows: number;
  /** Rows per proof: n·K. */
  chunkRows: number;
  /** Proofs per epoch: rows / chunkRows. */
  chunks: number;
  epochs: number;
  /** epochs · chunks. */
  proofs: number;
}

/**
 * The chain a file of `rows` rows makes for `epochs` epochs, or an InputError saying why it cannot:
 * a remainder that does not fill a chunk (with the nearest row counts that work), or more proofs
 * than one commit may chain (`maxProofs`, the contract's maxChainLength()).
 */
export function planChain(what: string, rows: number, spec: Pick<TrainingSpec, "n" | "K">, epochs = 1, maxProofs = Infinity): ChainPlan {
  const C = spec.n * spec.K;
  const shape = `${spec.K} step(s) of ${spec.n}`;
  if (!Number.isInteger(epochs) || epochs < 1) throw new InputError(`--epochs must be a whole number of at least 1, got ${epochs}`);
  if (rows === 0) throw new InputError(`data shape mismatch: ${what} has no rows; a commit trains on whole chunks of ${C} rows (${shape})`);
  if (rows % C !== 0) {
    const lower = Math.floor(rows / C) * C;
    const upper = lower + C;
    const options = lower > 0 ? `${lower} (drop ${rows - lower}) or ${upper} rows (add ${upper - rows})` : `${upper} rows (add ${upper - rows})`;
    throw new InputError(
      `data shape mismatch: ${what} has ${rows} rows, not a whole number of the ${C}-row chunks each training proof takes ` +
        `(${shape}; the repository's circuit is fixed at creation): use ${options}, or any multiple of ${C}`,
    );
  }
  const chunks = rows / C;
  const proofs = chunks * epochs;
  if (proofs > maxProofs) {
    const perCommit = Math.floor(maxProofs / epochs) * C;
    throw new InputError(
      `${what}: ${rows} rows × ${epochs} epoch(s) make ${proofs} training proofs of ${C} rows, but a commit chains at most ${maxProofs}: ` +
        (perCommit > 0 ? `split the rows into files of at most ${perCommit} rows (one commit each)` : `use at most ${maxProofs} epochs`),
    );
  }
  return { rows, chunkRows: C, chunks, epochs, proofs };
}

/**
 * The salt of chunk `chunk`'s data commitment, derived from the commit's secret salt: the first 31
 * bytes (below p) of sha256("flavum/repo-chunk-salt" ‖ salt as 32 bytes ‖ chunk as 4 bytes). Whoever
 * holds the commit's salt can open every chunk; nobody else can test row guesses against any.
 */
export function chunkSalt(salt: bigint, chunk: number): bigint {
  const h = crypto.createHash("sha256");
  h.update("flavum/repo-chunk-salt");
  h.update(Buffer.from(salt.toString(16).padStart(64, "0"), "hex"));
  const i = Buffer.alloc(4);
  i.writeUInt32BE(chunk);
  h.update(i);
  return BigInt("0x" + h.digest().subarray(0, 31).toString("hex"));
}

/** A training commit's dataHash from its proofs' data hashes, in chain order (as the contract computes it). */
export function chainDataHash(dataHashes: readonly (bigint | string)[]): bigint {
  if (dataHashes.length === 0) throw new InputError("a training chain has at least one proof");
  const words = dataHashes.map((d) => "0x" + BigInt(d).toString(16).padStart(64, "0"));
  return BigInt(keccak256(concat(words))) % FIELD_P;
}

/** One proven link as the local commit record keeps it (JSON: decimal strings). */
export interface StoredLink {
  newWeightsHash: string;
  dataHash: string;
  samples: number;
  correct: number;
  proof: { a: string[]; b: string[][]; c: string[] };
  publicSignals: string[];
}

export function linkCalldata(l: StoredLink): TrainingLinkCalldata {
  const b = (v: string) => BigInt(v);
  const proof: GrothCalldata = {
    a: l.proof.a.map(b) as [bigint, bigint],
    b: l.proof.b.map((r) => r.map(b)) as [[bigint, bigint], [bigint, bigint]],
    c: l.proof.c.map(b) as [bigint, bigint],
  };
  return { newWeightsHash: b(l.newWeightsHash), dataHash: b(l.dataHash), samples: l.samples, correct: l.correct, proof };
}

export interface ChainInput {
  spec: TrainingSpec;
  circuit: { wasm: string; zkey: string; vkey: string };
  /** The parent commit's weights. */
  parent: readonly bigint[];
  /** Every row of the file, quantized (plan.rows of them). */
  X: readonly (readonly bigint[])[];
  y: readonly bigint[];
  plan: ChainPlan;
  /** trainingBinding(chain, contract, repository, author): every proof is made for that push only. */
  binding: bigint;
  /** The commit's secret salt (chunk salts derive from it). */
  salt: bigint;
  progress: Progress;
}

export interface ProvenChain {
  links: StoredLink[];
  /** The last proof's weights, and their commitment. */
  weights: bigint[];
  weightsHash: bigint;
  dataHash: bigint;
  samples: number;
  correct: number;
  /** Σ (witness + prove) over the proofs. */
  proveMs: number;
}

const rowRange = (plan: ChainPlan, chunk: number) => `rows ${chunk * plan.chunkRows + 1}–${(chunk + 1) * plan.chunkRows}`;

/**
 * Runs the whole chain with the executor first (every link's weights and commitments, so a value out
 * of range or a repeated link fails before any proof is made), then proves and locally verifies each
 * link, one progress line per proof.
 */
export async function proveChain(c: ChainInput): Promise<ProvenChain> {
  const { spec, plan } = c;
  if (c.X.length !== plan.rows || c.y.length !== plan.rows) throw new InputError(`internal: the chain plans ${plan.rows} rows, got ${c.X.length}`);
  const steps = [];
  const seen = new Map<string, number>();
  let w: readonly bigint[] = c.parent;
  for (let i = 0; i < plan.proofs; i++) {
    const chunk = i % plan.chunks;
    const from = chunk * plan.chunkRows;
    const X = c.X.slice(from, from + plan.chunkRows);
    const y = c.y.slice(from, from + plan.chunkRows);
    const t = await trainingCircuitInput(spec, w, X, y, { binding: c.binding, salt: chunkSalt(c.salt, chunk) });
    // The contract counts a (parent weights, data) pair once: an epoch that left the weights exactly as
    // they were would repeat the links of the one before.
    const key = `${t.input.parentHash}/${t.input.dataHash}`;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      throw new InputError(
        `epoch ${Math.floor(i / plan.chunks) + 1} would train ${rowRange(plan, chunk)} from the very weights proof ${earlier + 1} trained them from ` +
          `(the weights did not change in between), and a (weights, data) pair counts once: train for at most ${Math.floor(i / plan.chunks)} epoch(s)`,
      );
    seen.set(key, i);
    steps.push({ input: t.input, expected: t.publicSignals.map(String), chunk });
    w = t.result.weights;
  }

  const links: StoredLink[] = [];
  let proveMs = 0;
  let samples = 0;
  let correct = 0;
  for (const [i, s] of steps.entries()) {
    const res = await prove(c.circuit.wasm, c.circuit.zkey, s.input, { progress: c.progress });
    if (!(await verify(c.circuit.vkey, res.publicSignals, res.proof))) throw new FlavumError(`training proof ${i + 1} of ${plan.proofs} does not verify locally`, "PROOF_INVALID");
    if (res.publicSignals.join() !== s.expected.join())
      throw new FlavumError(`internal: training proof ${i + 1} proves another statement than the executor computed`, "PROOF_INVALID");
    const ms = res.witnessMs + res.proveMs;
    proveMs += ms;
    const st = decodeTrainingStatement(res.publicSignals);
    samples += st.samples;
    correct += st.correct;
    const cd = solidityCalldata(res.proof, res.publicSignals);
    const str = (v: bigint) => v.toString();
    links.push({
      newWeightsHash: st.newWeightsHash.toString(), dataHash: st.dataHash.toString(), samples: st.samples, correct: st.correct,
      proof: { a: cd.a.map(str), b: cd.b.map((r) => r.map(str)), c: cd.c.map(str) }, publicSignals: res.publicSignals,
    });
    c.progress(`proof ${i + 1}/${plan.proofs} (epoch ${Math.floor(i / plan.chunks) + 1}/${plan.epochs}, ${rowRange(plan, s.chunk)}): ${st.correct}/${st.samples} right before their step, proven in ${(ms / 1000).toFixed(1)} s`);
  }
  const last = links[links.length - 1];
  return {
    links, weights: [...w], weightsHash: BigInt(last.newWeightsHash), dataHash: chainDataHash(links.map((l) => l.dataHash)),
    samples, correct, proveMs,
  };
}
