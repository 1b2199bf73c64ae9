/**
 * The state circuit against its TypeScript twin (stateTree + stateWitness + the spec in
 * src/protocol/stateBatch.ts), and soundness: every way a sequencer could misstate a batch — a status
 * bit that is not the operation's validity, a posted operation that differs from the proven one, a
 * skipped or reordered operation, a wrong exit or new root, a faked old leaf, something hidden in a
 * padding slot, a count outside 1..N, a deposit over a live data point, an id outside the tree —
 * has no witness. Misstatements are built the way an attacker would: opsCommit over the
 * proven operations, r and h from the misstated statement and the posted operations, as the contract
 * computes them, so only the lie fails. One test is the forgery the statement stopped only once
 * opsCommit was in r's preimage (a proven operation traded against an element another slot ignores).
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { generateStateCircuit } from "../../src/codegen/stateCircuit";
import { StateBatchPlan, applyStateOp, planStateBatch } from "../../src/rollup/stateWitness";
import { StateTree, dataPointLeafHash, exitLeafHash, verifyStatePath } from "../../src/rollup/stateTree";
import { subtreeLevels, subtreePath } from "../../src/rollup/merkle";
import { climb } from "../../src/rollup/batchWitness";
import { FlavumError } from "../../src/errors";
import { FIELD_P } from "../../src/quant/fixed";
import { readR1csInfo } from "../../src/zk/r1csHeader";
import {
  DataPointKind, DataPointLeaf, NOOP, OpType, STATE_META, STATE_PUBLIC_INPUTS, StateOp, encodeOps, opElements, opsCommitment, packStateMeta,
  poseidonChain, stateChallenge, stateHashReady, stateRlc, unpackStateMeta,
} from "../../src/protocol/stateBatch";
import { poseidonHash } from "../../src/quant/commitment";
import { INCLUDE, Tester, compileMain, expectTamperRejected, readSignal } from "../helpers/circuit";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

const D = 6;
const N = 4;
const CHAIN = 31337n;
const STATE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const FIRST_OP = 10n;
const BATCH = 3n;
const ALICE = BigInt("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const BOB = BigInt("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
const CAROL = BigInt("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
const MALLORY = BigInt("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65");
const TOKEN = BigInt("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const ACTORS = [ALICE, BOB, CAROL];

const modPow = (b: bigint, e: bigint): bigint => {
  let r = 1n;
  let x = b % FIELD_P;
  for (; e > 0n; e >>= 1n, x = (x * x) % FIELD_P) if (e & 1n) r = (r * x) % FIELD_P;
  return r;
};
const op = (o: Partial<StateOp> & Pick<StateOp, "type" | "dpId">): StateOp => ({ ...NOOP, ...o });
const deposit = (dpId: bigint, owner: bigint, kind: DataPointKind, asset: bigint, amount: bigint, contentHash: bigint) =>
  op({ type: OpType.Deposit, dpId, kind, a: owner, b: asset, amount, contentHash, requestId: 0n, createdBlock: 100n + dpId });
const transfer = (dpId: bigint, from: bigint, to: bigint) => op({ type: OpType.Transfer, dpId, a: from, b: to, createdBlock: 200n });
const exit = (dpId: bigint, from: bigint) => op({ type: OpType.Exit, dpId, a: from, createdBlock: 300n });
const infer = (dpId: bigint, from: bigint, requestId = 7n) => op({ type: OpType.Infer, dpId, a: from, requestId, createdBlock: 400n });

describe("state circuit (depth 6, 4 operations per batch)", function () {
  let t: Tester;
  /** dp1 owned by Alice (ETH), dp2 common (Alice's), dp3 owned by Bob (a token balance). */
  let base: StateTree;
  const DP1: DataPointLeaf = { owner: ALICE, kind: DataPointKind.Owned, contentHash: 1111n, asset: 0n, balance: 100n };
  const DP2: DataPointLeaf = { owner: ALICE, kind: DataPointKind.Common, contentHash: 2222n, asset: 0n, balance: 0n };
  const DP3: DataPointLeaf = { owner: BOB, kind: DataPointKind.Owned, contentHash: 3333n, asset: TOKEN, balance: 7n };

  before(async () => {
    const gen = generateStateCircuit(D, N);
    expect(gen.templateName).to.equal("FlavumState_d6_n4");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-state-"));
    const file = path.join(dir, "state.circom");
    fs.writeFileSync(file, gen.source);
    t = await wasmTester(file, { include: INCLUDE, output: dir });
    await t.loadSymbols();
    expect(readR1csInfo(path.join(dir, "state.r1cs")).publicInputs).to.equal(STATE_PUBLIC_INPUTS.length);
    await stateHashReady;
    base = await StateTree.create(D);
    base.set(1n, DP1);
    base.set(2n, DP2);
    base.set(3n, DP3);
  });

  const plan = (tree: StateTree, ops: StateOp[]) =>
    planStateBatch({ tree, ops, opsPerBatch: N, firstOp: FIRST_OP, stateBatch: BATCH, chainId: CHAIN, stateContract: STATE });

  const hasWitness = async (input: Record<string, unknown>) => {
    try {
      const w = await t.calculateWitness(input, true);
      await t.checkConstraints(w);
      return true;
    } catch {
      return false;
    }
  };
  const expectNoWitness = async (input: Record<string, unknown>, why: string) => expect(await hasWitness(input), why).to.equal(false);

  interface Restatement {
    oldRoot?: bigint;
    newRoot?: bigint;
    exitRoot?: bigint;
    meta?: bigint;
    /** Default: the commitment to the proven operations (the witness's op[]), as a prover sends it. */
    opsCommit?: bigint;
    /** What the contract has in its queue and hashes into r and h (default: the plan's operations). */
    posted?: StateOp[];
    /** Private inputs to replace. */
    witness?: Record<string, unknown>;
  }
  /** The chain over a circuit input's op[], every slot. */
  const commitOf = (op: unknown) => poseidonChain((op as string[][]).flat().map(BigInt));
  /**
   * The plan's circuit input for another statement: opsCommit over the proven operations, r and h as
   * the contract would compute them for it.
   */
  const restate = (p: StateBatchPlan, s: Restatement) => {
    const input = { ...p.circuitInput, ...s.witness };
    const st = {
      chainId: CHAIN, stateContract: STATE, oldRoot: s.oldRoot ?? p.oldRoot, newRoot: s.newRoot ?? p.newRoot,
      exitRoot: s.exitRoot ?? p.exitRoot, meta: s.meta ?? p.meta, opsCommit: s.opsCommit ?? commitOf(input.op),
    };
    const posted = s.posted ?? p.ops;
    const r = stateChallenge(st, encodeOps(posted));
    return {
      ...input, oldRoot: String(st.oldRoot), newRoot: String(st.newRoot), exitRoot: String(st.exitRoot),
      meta: String(st.meta), opsCommit: String(st.opsCommit), r: String(r), h: String(stateRlc(posted, r)),
    };
  };
  /**
   * The circuit input a cheating prover would need for `ops` with the slots in `override` forced valid
   * (taking their effect: transfer to b, exit with its exit leaf) or invalid (no effect): roots, exit
   * tree, every slot's leaf and path, r and h all consistent with that story. Only the lie is wrong.
   */
  const forge = (tree: StateTree, ops: StateOp[], override: Map<number, boolean>) => {
    const s = tree.clone();
    const oldRoot = s.root;
    const slots = [...ops, ...Array<StateOp>(N - ops.length).fill(NOOP)];
    const fields: bigint[][] = [];
    const siblings: string[][] = [];
    const exitLeaves: bigint[] = [];
    let status = 0n;
    slots.forEach((o, k) => {
      const index = o.type === OpType.Noop ? 0n : o.dpId;
      const cur = o.type === OpType.Noop ? undefined : s.dataPoint(index);
      fields.push(cur ? [cur.owner, BigInt(cur.kind), cur.contentHash, cur.asset, cur.balance, 0n] : [0n, 0n, 0n, 0n, 0n, 1n]);
      siblings.push(s.siblings(index).map(String));
      const forced = override.get(k);
      let res = { valid: false, exitLeaf: 0n };
      if (forced === undefined) res = applyStateOp(s, o);
      else if (forced) {
        res = { valid: true, exitLeaf: 0n };
        if (o.type === OpType.Transfer && cur) s.set(o.dpId, { ...cur, owner: o.b });
        if (o.type === OpType.Exit) {
          res.exitLeaf = s.hashExit(o.dpId, s.leaf(o.dpId));
          s.set(o.dpId, undefined);
        }
      }
      exitLeaves.push(res.exitLeaf);
      if (res.valid) status |= 1n << BigInt(k);
    });
    const st = { chainId: CHAIN, stateContract: STATE, oldRoot, newRoot: s.root, exitRoot: exitRootOf(exitLeaves),
      meta: packStateMeta({ firstOp: FIRST_OP, count: ops.length, status, stateBatch: BATCH, opsPerBatch: N }), opsCommit: opsCommitment(ops, N) };
    const r = stateChallenge(st, encodeOps(ops));
    const col = (i: number) => fields.map((f) => String(f[i]));
    return {
      oldRoot: String(st.oldRoot), newRoot: String(st.newRoot), exitRoot: String(st.exitRoot), meta: String(st.meta),
      opsCommit: String(st.opsCommit), r: String(r),
      h: String(stateRlc(ops, r)), op: slots.map((o) => opElements(o).map(String)),
      leafOwner: col(0), leafKind: col(1), leafContentHash: col(2), leafAsset: col(3), leafBalance: col(4), leafEmpty: col(5), siblings,
    };
  };
  /** meta with another status and/or count (bypassing packStateMeta's own checks, as an attacker would). */
  const metaWith = (p: StateBatchPlan, m: { status?: bigint; count?: number }) => {
    let meta = p.meta;
    if (m.status !== undefined) meta = (meta & ~(((1n << 64n) - 1n) << STATE_META.statusShift)) | (m.status << STATE_META.statusShift);
    if (m.count !== undefined) meta = (meta & ~(0xffffn << STATE_META.countShift)) | (BigInt(m.count) << STATE_META.countShift);
    return meta;
  };
  const exitRootOf = (leaves: bigint[]) => {
    const levels = subtreeLevels(base.hashers.h2, leaves);
    return levels[levels.length - 1][0];
  };
  const withOp = (p: StateBatchPlan, k: number, e: bigint[]) => {
    const ops = (p.circuitInput.op as string[][]).map((x) => x.slice());
    ops[k] = e.map(String);
    return ops;
  };

  describe("StateTree", () => {
    it("is a sparse Poseidon tree: paths verify, an emptied leaf restores the root, clones are independent", async () => {
      const tree = await StateTree.create(D);
      const empty = tree.root;
      expect(empty).to.equal(tree.zeros[D]);
      tree.set(5n, DP1);
      const leaf = await dataPointLeafHash(DP1);
      expect(tree.leaf(5n)).to.equal(leaf);
      expect(await verifyStatePath(tree.root, 5n, leaf, tree.siblings(5n))).to.equal(true);
      expect(await verifyStatePath(tree.root, 4n, leaf, tree.siblings(5n))).to.equal(false);
      expect(await verifyStatePath(tree.root, 64n, leaf, tree.siblings(5n))).to.equal(false);
      const copy = tree.clone();
      copy.set(63n, DP3);
      expect(tree.dataPoint(63n)).to.equal(undefined);
      expect(copy.dataPoint(63n)).to.deep.equal(DP3);
      expect(tree.set(5n, undefined)).to.equal(empty);
      expect(await exitLeafHash(5n, leaf)).to.equal(tree.hashExit(5n, leaf));
      expect(() => tree.set(64n, DP1)).to.throw(FlavumError, /outside the state tree/);
      expect(() => tree.set(6n, { ...DP1, kind: 2 as DataPointKind })).to.throw(FlavumError, /kind 2/);
      expect(() => tree.set(6n, { ...DP1, balance: 1n << 128n })).to.throw(FlavumError, /128 bits/);
    });
  });

  describe("opsCommit", () => {
    it("is the Poseidon chain over every slot's elements, the template's and its twin's alike at each chunk shape", async () => {
      // By hand with circomlibjs: 4 slots are 20 elements, one Poseidon(16) from 20 and a Poseidon(6).
      const ops = [deposit(4n, CAROL, DataPointKind.Owned, 0n, 50n, 4444n), exit(3n, BOB)];
      const e = [...ops, NOOP, NOOP].flatMap((o) => opElements(o));
      const first = await poseidonHash([20n, ...e.slice(0, 15)]);
      const expected = await poseidonHash([first, ...e.slice(15)]);
      expect(opsCommitment(ops, N)).to.equal(expected);
      const p = plan(base, ops);
      expect(p.opsCommit).to.equal(expected);
      expect(p.circuitInput.opsCommit).to.equal(String(expected));
      // The padding counts: the same operations in a batch of 8 slots commit otherwise.
      expect(opsCommitment(ops, 8)).to.not.equal(expected);
      expect(() => opsCommitment([...ops, ...ops, NOOP], N)).to.throw(FlavumError, /5 operations do not fit a state batch of 4 slots/);
      expect(() => poseidonChain([1n, FIELD_P])).to.throw(FlavumError, /element 1 .* is not a field element/);
      // The template against the twin: one short chunk, one full chunk alone, a full one and a last of 1, two full.
      for (const n of [1, 15, 16, 30]) {
        const c = await compileMain(`poseidon-chain-${n}`, ["PoseidonChain.circom"], `component main = PoseidonChain(${n});`);
        const values = Array.from({ length: n }, (_, i) => (FIELD_P - 1n - 7919n * BigInt(i)) % FIELD_P);
        const w = await c.calculateWitness({ in: values.map(String) }, true);
        await c.checkConstraints(w);
        expect(readSignal(c, w, "out"), `PoseidonChain(${n})`).to.equal(poseidonChain(values));
      }
    });
  });

  describe("honest batches", () => {
    it("agree with the TS reference and an independent model, for random operation sequences", async () => {
      const action = fc.oneof(
        fc.record({ k: fc.constant("deposit" as const), owner: fc.nat(2), common: fc.boolean(), amount: fc.bigInt(0n, (1n << 128n) - 1n) }),
        fc.record({ k: fc.constant("transfer" as const), dp: fc.integer({ min: 1, max: 7 }), from: fc.nat(2), byOwner: fc.boolean(), to: fc.nat(2) }),
        fc.record({ k: fc.constant("exit" as const), dp: fc.integer({ min: 1, max: 7 }), from: fc.nat(2), byOwner: fc.boolean() }),
        fc.record({ k: fc.constant("infer" as const), dp: fc.integer({ min: 1, max: 7 }), from: fc.nat(2), byOwner: fc.boolean() }),
      );
      const batches = fc.array(fc.array(action, { minLength: 1, maxLength: N }), { minLength: 1, maxLength: 3 });
      // Which cases the runs reached: the property is only as good as its coverage.
      const seen = new Set<string>();
      const who = (cur: DataPointLeaf | undefined, from: bigint) =>
        cur === undefined ? "missing" : cur.kind === DataPointKind.Common ? "common" : cur.owner === from ? "owner" : "stranger";
      await fc.assert(
        fc.asyncProperty(batches, async (bs) => {
          let tree = base.clone();
          // The model: plain records, the spec's rules, nothing shared with the code under test.
          const model = new Map<bigint, DataPointLeaf>([[1n, DP1], [2n, DP2], [3n, DP3]]);
          let next = 4n;
          for (const b of bs) {
            const expected: boolean[] = [];
            const exits: [number, bigint, DataPointLeaf][] = [];
            const ops = b.map((a, k) => {
              if (a.k === "deposit") {
                const dp = next++;
                const l: DataPointLeaf = {
                  owner: ACTORS[a.owner], kind: a.common ? DataPointKind.Common : DataPointKind.Owned, contentHash: 9000n + dp,
                  asset: a.common ? 0n : TOKEN, balance: a.common ? 0n : a.amount,
                };
                model.set(dp, l);
                seen.add(`deposit ${a.common ? "common" : "owned"}`);
                expected.push(true);
                return deposit(dp, l.owner, l.kind, l.asset, l.balance, l.contentHash);
              }
              const dp = BigInt(a.dp);
              const cur = model.get(dp);
              // Half the time the sender is whoever holds it now, so valid operations are common too.
              const from = a.byOwner && cur ? cur.owner : ACTORS[a.from];
              const owns = cur !== undefined && cur.kind === DataPointKind.Owned && cur.owner === from;
              seen.add(`${a.k} ${who(cur, from)}`);
              if (a.k === "transfer") {
                if (owns) model.set(dp, { ...cur, owner: ACTORS[a.to] });
                expected.push(owns);
                return transfer(dp, from, ACTORS[a.to]);
              }
              if (a.k === "exit") {
                if (owns) {
                  exits.push([k, dp, cur]);
                  model.delete(dp);
                }
                expected.push(owns);
                return exit(dp, from);
              }
              expected.push(cur !== undefined && (cur.kind === DataPointKind.Common || owns));
              return infer(dp, from, BigInt(k));
            });
            if (ops.length < N) seen.add("padding");
            const before = tree.root;
            const p = plan(tree, ops);
            expect(tree.root, "planStateBatch left the tree alone").to.equal(before);
            expect(p.results.map((x) => x.valid)).to.deep.equal(expected);
            const meta = unpackStateMeta(p.meta);
            expect(meta.count).to.equal(ops.length);
            expect(meta.status).to.equal(p.status);
            // The root is a function of the data points alone, however they got there.
            const fresh = await StateTree.create(D);
            for (const [dp, l] of model) fresh.set(dp, l);
            expect(p.newRoot).to.equal(fresh.root);
            for (let k = 0; k < N; k++) {
              const e = exits.find(([slot]) => slot === k);
              const leaf = e ? await exitLeafHash(e[1], await dataPointLeafHash(e[2])) : 0n;
              expect(p.exitLeaves[k]).to.equal(leaf);
              if (e) {
                expect(p.results[k].exitIndex).to.equal(k);
                expect(await verifyStatePath(p.exitRoot, BigInt(k), leaf, subtreePath(p.exitLevels, k))).to.equal(true);
              }
            }
            const w = await t.calculateWitness(p.circuitInput, true);
            await t.checkConstraints(w);
            // The circuit ties each status bit to the validity it computes, and these are the model's.
            for (let k = 0; k < N; k++) expect(readSignal(t, w, `metaBits.out[${80 + k}]`)).to.equal(k < ops.length && expected[k] ? 1n : 0n);
            for (let k = 0; k < N; k++) expect(readSignal(t, w, `exits.leaves[${k}]`)).to.equal(p.exitLeaves[k]);
            tree = p.after;
          }
        }),
        { numRuns: 15, seed: 6 },
      );
      const cases = ["deposit owned", "deposit common", "padding"];
      for (const k of ["transfer", "exit", "infer"]) cases.push(...["owner", "stranger", "common", "missing"].map((w) => `${k} ${w}`));
      expect([...seen].sort()).to.include.members(cases);
    });

    it("proves a batch for any challenge r, with h over the posted operations", async () => {
      const p = plan(base, [deposit(4n, CAROL, DataPointKind.Owned, 0n, 50n, 4444n), transfer(1n, ALICE, BOB), exit(3n, BOB), infer(2n, CAROL)]);
      expect(p.status).to.equal(0b1111n);
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: 0n, max: FIELD_P - 1n }), async (r) => {
          expect(await hasWitness({ ...p.circuitInput, r: String(r), h: String(stateRlc(p.ops, r)) })).to.equal(true);
        }),
        { numRuns: 4, seed: 4 },
      );
      // The restatement and forging helpers reproduce the honest statement, so a failure below is the lie's.
      expect(await hasWitness(restate(p, {}))).to.equal(true);
      expect(forge(base, p.ops, new Map())).to.deep.equal(p.circuitInput);
      expect(forge(base, p.ops, new Map([[1, true], [2, true]]))).to.deep.equal(p.circuitInput);
    });

    it("refuses, before any proof, what the circuit has no witness for", () => {
      const dp1 = base.dataPoint(1n)!;
      expect(() => plan(base, [deposit(1n, MALLORY, DataPointKind.Owned, 0n, 1n, 5n)])).to.throw(FlavumError, /DEPOSIT into data point 1, which is not empty/);
      expect(dp1.owner).to.equal(ALICE);
      expect(() => plan(base, [transfer(64n, ALICE, BOB)])).to.throw(FlavumError, /data point 64.*below 64/);
      expect(() => plan(base, [infer(0n, ALICE)])).to.throw(FlavumError, /data point 0/);
      expect(() => plan(base, [])).to.throw(FlavumError, /1\.\.4 operations, got 0/);
      expect(() => plan(base, Array(5).fill(infer(2n, ALICE)))).to.throw(FlavumError, /got 5/);
      expect(() => plan(base, [{ ...deposit(4n, BOB, 0, 0n, 1n, 1n), kind: 2 as DataPointKind }])).to.throw(FlavumError, /kind 2/);
      expect(() => plan(base, [{ ...infer(2n, BOB), a: FIELD_P }])).to.throw(FlavumError, /not a field element/);
      expect(() => plan(base, [infer(2n, ALICE), deposit(2n, BOB, 0, 0n, 1n, 1n)])).to.throw(FlavumError, /state operation 11 \(slot 1\)/);
      // A failed plan leaves the tree as it was.
      expect(base.dataPoint(2n)).to.deep.equal(DP2);
      const scratch = base.clone();
      expect(applyStateOp(scratch, exit(2n, ALICE))).to.deep.equal({ valid: false, exitLeaf: 0n });
      expect(scratch.root).to.equal(base.root);
    });
  });

  describe("soundness", () => {
    /** Three invalid operations: a transfer by a non-owner, an exit of a common data point, an inference by a stranger. */
    let bad: StateBatchPlan;
    /** Four valid ones. */
    let good: StateBatchPlan;
    let goodWitness: bigint[];

    before(async () => {
      bad = plan(base, [transfer(1n, BOB, BOB), exit(2n, ALICE), infer(3n, ALICE)]);
      expect(bad.status).to.equal(0n);
      expect(bad.newRoot).to.equal(base.root);
      good = plan(base, [deposit(4n, CAROL, DataPointKind.Owned, 0n, 50n, 4444n), transfer(1n, ALICE, BOB), exit(3n, BOB), infer(2n, CAROL)]);
      goodWitness = await t.calculateWitness(good.circuitInput, true);
    });

    it("has no witness for an invalid operation claimed valid, or a valid one claimed invalid, even on a consistent witness", async () => {
      // Status bit only: the state does not change (slot 2), or the roots do not either.
      await expectNoWitness(restate(bad, { meta: metaWith(bad, { status: 0b001n }) }), "transfer by a non-owner, status only");
      await expectNoWitness(restate(bad, { meta: metaWith(bad, { status: 0b010n }) }), "exit of a common data point, status only");
      await expectNoWitness(restate(bad, { meta: metaWith(bad, { status: 0b100n }) }), "inference by a stranger on an owned data point");
      // The whole forged batch: roots, exit tree and every later slot's path as if the operation had taken effect.
      const stolen = forge(base, bad.ops, new Map([[0, true]]));
      const after = base.clone();
      after.set(1n, { ...DP1, owner: BOB });
      expect(stolen.newRoot).to.equal(String(after.root));
      await expectNoWitness(stolen, "transfer of Alice's dp1 by Bob");
      const exited = forge(base, bad.ops, new Map([[1, true]]));
      expect(exited.exitRoot).to.equal(String(exitRootOf([0n, base.hashExit(2n, base.leaf(2n)), 0n, 0n])));
      await expectNoWitness(exited, "exit of the common dp2");
      await expectNoWitness(forge(base, bad.ops, new Map([[2, true]])), "inference by Alice on Bob's dp3");
      // An empty leaf has owner 0 in the witness, yet the zero address does not own it.
      for (const o of [transfer(9n, 0n, MALLORY), exit(9n, 0n), infer(9n, 0n)])
        await expectNoWitness(forge(base, [o], new Map([[0, true]])), `${OpType[o.type]} by address 0 of an empty leaf`);
      // A valid operation reported invalid: a transfer or exit censored, an inference refused.
      for (const k of [1, 2, 3]) await expectNoWitness(forge(base, good.ops, new Map([[k, false]])), `valid op ${k} claimed invalid`);
      await expectNoWitness(restate(good, { meta: metaWith(good, { status: 0b1110n }) }), "a deposit claimed invalid");
    });

    it("has no witness for a faked old leaf (another owner) on the path", async () => {
      // Bob shows dp1 as his own: everything else is the batch in which his transfer took effect.
      const leafOwner = [...(bad.circuitInput.leafOwner as string[])];
      leafOwner[0] = String(BOB);
      await expectNoWitness({ ...forge(base, bad.ops, new Map([[0, true]])), leafOwner }, "Bob posing as dp1's owner");
      // The same lie about an empty leaf: dp3 shown absent, so Bob's exit is refused and dp3 stays.
      const refused = forge(base, good.ops, new Map([[2, false]]));
      const blank = (f: string[], v: string) => f.map((x, k) => (k === 2 ? v : x));
      await expectNoWitness({
        ...refused, leafOwner: blank(refused.leafOwner, "0"), leafAsset: blank(refused.leafAsset, "0"), leafBalance: blank(refused.leafBalance, "0"),
        leafContentHash: blank(refused.leafContentHash, "0"), leafEmpty: blank(refused.leafEmpty, "1"),
      }, "dp3 shown empty to refuse its exit");
    });

    it("binds the posted operations: a changed, skipped or reordered operation has no witness", async () => {
      // The queue says 50 was deposited; the sequencer proves a deposit of 10^21.
      const posted = good.ops;
      const inflated = plan(base, [{ ...posted[0], amount: 10n ** 21n }, ...posted.slice(1)]);
      await expectNoWitness(restate(inflated, { posted }), "amount changed after r was fixed");
      const stolen = plan(base, [posted[0], { ...posted[1], b: MALLORY }, ...posted.slice(2)]);
      await expectNoWitness(restate(stolen, { posted }), "recipient changed after r was fixed");
      // The proven operation differs from the posted one with everything else honest.
      const e = opElements(posted[3]);
      e[0] += 1n << 80n; // another request id
      await expectNoWitness(restate(good, { witness: { op: withOp(good, 3, e) } }), "request id changed");
      // Skipping the transfer: the contract hashes the next operations of its queue, in order.
      const skipped = plan(base, [posted[0], posted[2], posted[3]]);
      await expectNoWitness(restate(skipped, { posted: posted.slice(0, 3) }), "transfer skipped");
      const noop = plan(base, [posted[0], NOOP, posted[2], posted[3]]);
      await expectNoWitness(restate(noop, { posted }), "transfer replaced by a NOOP");
      const reordered = plan(base, [posted[0], posted[3], posted[2], posted[1]]);
      await expectNoWitness(restate(reordered, { posted }), "operations reordered");
      // h itself, and the RLC's intermediate signals.
      await expectNoWitness({ ...good.circuitInput, h: String((good.h + 1n) % FIELD_P) }, "h + 1");
      await expectTamperRejected(t, goodWitness, { "rlc.acc[7]": readSignal(t, goodWitness, "rlc.acc[7]") + 1n });
    });

    it("has no witness for a proven operation traded against an element another slot's type ignores", async () => {
      // The queue: Carol deposits 50 into dp4, then Bob exits dp3. The prover proves the deposit as
      // Mallory's and sets the exit's e4 — which EXIT ignores — so that h over its witness equals h over
      // the posted operations at r. While r depended only on public values and the posted operations,
      // the prover knew it first and this batch was provable. Now r is drawn over the commitment to the
      // proven operations, which holds e4: solving e4 for one r moves r.
      const posted = [deposit(4n, CAROL, DataPointKind.Owned, 0n, 50n, 4444n), exit(3n, BOB)];
      const forged = plan(base, [{ ...posted[0], a: MALLORY }, posted[1]]);
      expect(forged.after.dataPoint(4n)!.owner).to.equal(MALLORY);
      /** e4 of slot 1 that makes h over the forged operations h over the posted ones at r. */
      const solve = (r: bigint) =>
        ((((FIELD_P - ((MALLORY - CAROL) * modPow(r, 2n)) % FIELD_P) % FIELD_P) * modPow(modPow(r, 10n), FIELD_P - 2n)) % FIELD_P);
      const proven = (x: bigint) => [forged.ops[0], { ...posted[1], contentHash: x }];

      // 1. Solved for the r of the commitment without e4 (the only r it can know before choosing e4):
      // the cancellation holds there, but the op[] proven is not the one committed to.
      const st = restate(forged, { posted });
      const r = BigInt(st.r);
      const x = solve(r);
      expect(stateRlc(proven(x), r), "the cancellation is real at the r it was solved for").to.equal(stateRlc(posted, r));
      const op = withOp(forged, 1, [...opElements(posted[1]).slice(0, 4), x]);
      await expectNoWitness({ ...st, op }, "forged operations under the commitment to other ones");
      // 2. Committed to the forged operations, e4 included: r moves, and the cancellation with it.
      const recommitted = restate(forged, { posted, witness: { op } });
      const r2 = BigInt(recommitted.r);
      expect(r2).to.not.equal(r);
      expect(stateRlc(proven(x), r2)).to.not.equal(stateRlc(posted, r2));
      await expectNoWitness(recommitted, "forged operations under their own commitment");
      // Control: with h over the proven operations (not the contract's) that witness is satisfiable, so
      // what fails above is the binding alone.
      expect(await hasWitness({ ...recommitted, h: String(stateRlc(proven(x), r2)) })).to.equal(true);
    });

    it("has no witness for an opsCommit other than the commitment to the proven operations", async () => {
      // r and h as the contract computes them from the tampered opsCommit and the posted operations.
      await expectNoWitness(restate(good, { opsCommit: good.opsCommit + 1n }), "opsCommit + 1");
      await expectNoWitness(restate(good, { opsCommit: bad.opsCommit }), "another batch's opsCommit");
      // The chain over the real slots only, without the padding slot's zeros.
      await expectNoWitness(restate(bad, { opsCommit: poseidonChain(bad.ops.flatMap((o) => opElements(o))) }), "chain over the real slots only");
      // The public input alone, r and h left as they were.
      await expectNoWitness({ ...good.circuitInput, opsCommit: String(good.opsCommit + 1n) }, "opsCommit + 1, r unchanged");
      await expectTamperRejected(t, goodWitness, { opsCommit: good.opsCommit + 1n });
      await expectTamperRejected(t, goodWitness, { "commit.chunk[0].out": readSignal(t, goodWitness, "commit.chunk[0].out") + 1n });
    });

    it("has no witness for a wrong exit root or new root", async () => {
      await expectNoWitness(restate(good, { exitRoot: good.exitRoot + 1n }), "exitRoot + 1");
      const moved = [...good.exitLeaves];
      [moved[0], moved[2]] = [moved[2], moved[0]];
      await expectNoWitness(restate(good, { exitRoot: exitRootOf(moved) }), "exit leaf in another slot");
      await expectNoWitness(restate(good, { exitRoot: exitRootOf([0n, 0n, 0n, 0n]) }), "exit dropped from the exit tree");
      await expectNoWitness(restate(good, { newRoot: good.newRoot + 1n }), "newRoot + 1");
      const kept = good.after.clone();
      kept.set(3n, DP3); // exited, yet still in the state: a double spend
      await expectNoWitness(restate(good, { newRoot: kept.root }), "exited data point left in the state");
      await expectNoWitness(restate(good, { oldRoot: base.root + 1n }), "another old root");
      // Witness-level: the chained root, an exit leaf, a status.
      await expectTamperRejected(t, goodWitness, { "step[1].rootOut": readSignal(t, goodWitness, "step[1].rootOut") + 1n });
      await expectTamperRejected(t, goodWitness, { "exits.leaves[2]": 0n });
      await expectTamperRejected(t, goodWitness, { "step[1].validTransfer": 0n });
      await expectTamperRejected(t, goodWitness, { "step[2].validExit": 0n, "metaBits.out[82]": 0n });
      await expectTamperRejected(t, goodWitness, { "real.out[3]": 0n });
    });

    it("has no witness for anything in a padding slot", async () => {
      const p = plan(base, [infer(3n, BOB), transfer(1n, ALICE, CAROL)]);
      expect(p.status).to.equal(0b11n);
      // Elements for slot 3 whose share of h cancels at r: e4 = -(sum_{t<4} e_t r^(16+t)) / r^20. That
      // worked while r did not depend on them; now it holds at the honest r only, and they move r.
      const cancel = (r: bigint, e: bigint[]) => {
        const s = e.slice(0, 4).reduce((acc, v, j) => (acc + v * modPow(r, 16n + BigInt(j))) % FIELD_P, 0n);
        return [...e.slice(0, 4), ((FIELD_P - s) * modPow(modPow(r, 20n), FIELD_P - 2n)) % FIELD_P];
      };
      const noop = cancel(p.r, [0n, MALLORY, 0n, 0n]);
      expect(stateRlc([...p.ops, NOOP, { ...NOOP, a: noop[1], contentHash: noop[4] }], p.r)).to.equal(p.h);
      await expectNoWitness({ ...p.circuitInput, op: withOp(p, 3, noop) }, "a NOOP with fields in a padding slot, the honest opsCommit");
      await expectNoWitness(restate(p, { witness: { op: withOp(p, 3, noop) } }), "a NOOP with fields in a padding slot, committed");
      // The padding rule alone: a valid inference on the common dp2 smuggled into slot 3 with its status
      // bit set, on a consistent path, committed, and h the circuit's own sum over all four slots (what
      // a contract that counted padding into h would take).
      const c = p.circuitInput;
      const put = (name: string, v: bigint) => [...(c[name] as string[]).slice(0, 3), String(v)];
      const sib = (c.siblings as string[][]).slice();
      sib[3] = p.after.siblings(2n).map(String);
      const slot3 = {
        op: withOp(p, 3, opElements(infer(2n, MALLORY))), siblings: sib, leafOwner: put("leafOwner", DP2.owner), leafKind: put("leafKind", 1n),
        leafContentHash: put("leafContentHash", DP2.contentHash), leafAsset: put("leafAsset", 0n), leafBalance: put("leafBalance", 0n),
        leafEmpty: put("leafEmpty", 0n),
      };
      const all = [...p.ops, NOOP, infer(2n, MALLORY)];
      const st = restate(p, { meta: metaWith(p, { status: 0b1011n }), witness: slot3 });
      await expectNoWitness({ ...st, h: String(stateRlc(all, BigInt(st.r))) }, "a valid inference in a padding slot");
      // Control: the same slot-3 witness in a batch of count 4 (slot 2 a NOOP, allowed inside count) is
      // satisfiable, so what failed above is the padding rule alone.
      const meta = packStateMeta({ firstOp: FIRST_OP, count: 4, status: 0b1011n, stateBatch: BATCH, opsPerBatch: N });
      expect(await hasWitness(restate(p, { meta, posted: all, witness: slot3 }))).to.equal(true);
    });

    it("pins count to 1..4 and the batch size to the circuit's", async () => {
      await expectNoWitness(restate(bad, { meta: metaWith(bad, { count: 0 }), posted: [] }), "count 0");
      await expectNoWitness(restate(good, { meta: metaWith(good, { count: 5 }), posted: [...good.ops, infer(2n, ALICE)] }), "count 5");
      // The fourth operation called padding: it is not zero, so it cannot be.
      await expectNoWitness(restate(good, { meta: metaWith(good, { count: 3, status: 0b111n }), posted: good.ops.slice(0, 3) }), "count 3 for 4 operations");
      const other = packStateMeta({ firstOp: FIRST_OP, count: 4, status: good.status, stateBatch: BATCH, opsPerBatch: 8 });
      await expectNoWitness(restate(good, { meta: other }), "a statement for 8 operations per batch");
      await expectNoWitness(restate(good, { meta: good.meta | (1n << (STATE_META.statusShift + 4n)) }), "a status bit for slot 4");
    });

    it("has no witness for a deposit into a non-empty leaf", async () => {
      const p = plan(base, [deposit(5n, MALLORY, DataPointKind.Owned, 0n, 1n, 5555n)]);
      // The same deposit, proven against a state where Bob already holds dp5 with a balance.
      const occupied = base.clone();
      const BOBS: DataPointLeaf = { owner: BOB, kind: DataPointKind.Owned, contentHash: 77n, asset: 0n, balance: 10n ** 18n };
      occupied.set(5n, BOBS);
      const overwritten = occupied.clone();
      overwritten.set(5n, p.after.dataPoint(5n));
      const c = p.circuitInput;
      const col = (name: string, v: bigint) => [String(v), ...(c[name] as string[]).slice(1)];
      const honestLeaf = {
        leafOwner: col("leafOwner", BOB), leafKind: col("leafKind", 0n), leafContentHash: col("leafContentHash", 77n),
        leafAsset: col("leafAsset", 0n), leafBalance: col("leafBalance", BOBS.balance), leafEmpty: col("leafEmpty", 0n),
      };
      await expectNoWitness(restate(p, { oldRoot: occupied.root, newRoot: overwritten.root, witness: honestLeaf }), "the occupant shown");
      // Were the emptiness not checked, the muxed new leaf would be (non-empty 2) * Poseidon5(old + deposit).
      const h5 = base.hashers.h5;
      const mixed = 2n * h5(BOB + MALLORY, 0n, 77n + 5555n, 0n, BOBS.balance + 1n);
      const mixedRoot = climb(base.hashers.h2, 5n, mixed, occupied.siblings(5n));
      await expectNoWitness(restate(p, { oldRoot: occupied.root, newRoot: mixedRoot, witness: honestLeaf }), "the occupant shown, the mixed root");
      await expectNoWitness(restate(p, { oldRoot: occupied.root, newRoot: overwritten.root }), "the leaf claimed empty");
      // Fields under an empty leaf are forced to zero, or a deposit would add them to its own.
      const minted = base.clone();
      minted.set(5n, { ...p.after.dataPoint(5n)!, balance: 1n + 10n ** 18n });
      await expectNoWitness(restate(p, { newRoot: minted.root, witness: { leafBalance: col("leafBalance", 10n ** 18n) } }), "empty leaf with a balance");
      // Control: that root is what the deposit of 1 + 10^18 would give, so only the hidden balance failed.
      const big = plan(base, [{ ...p.ops[0], amount: 1n + 10n ** 18n }]);
      expect(big.newRoot).to.equal(minted.root);
    });

    it("has no witness for a data point id outside 1..2^D - 1, a type above 4 or a kind above 1", async () => {
      // Alice's valid transfer of dp1, posted as dp 65: the low bits alone would move dp1.
      const p = plan(base, [transfer(1n, ALICE, MALLORY)]);
      const far = { ...p.ops[0], dpId: 65n };
      await expectNoWitness(restate(p, { posted: [far], witness: { op: withOp(p, 0, opElements(far)) } }), "dpId 65 = 1 + 2^6");
      const top = { ...p.ops[0], dpId: 1n + (1n << 63n) };
      await expectNoWitness(restate(p, { posted: [top], witness: { op: withOp(p, 0, opElements(top)) } }), "dpId 1 + 2^63");
      // An inference of dp 0, with leaf 0 really empty on its path.
      const q = plan(base, [infer(5n, ALICE)]);
      const zero = { ...q.ops[0], dpId: 0n };
      const sib = (q.circuitInput.siblings as string[][]).slice();
      sib[0] = base.siblings(0n).map(String);
      await expectNoWitness(restate(q, { posted: [zero], witness: { op: withOp(q, 0, opElements(zero)), siblings: sib } }), "dpId 0");
      // Types 5 and 7, and 8 and 12, which read as NOOP and INFER from their low bits; posted and proven alike.
      for (const type of [5, 7, 8, 12]) {
        const odd = { ...q.ops[0], type: type as OpType };
        await expectNoWitness(restate(q, { posted: [odd], witness: { op: withOp(q, 0, opElements(odd)) } }), `type ${type}`);
      }
      const d = plan(base, [deposit(5n, ALICE, DataPointKind.Common, 0n, 0n, 5n)]);
      // Kind 3 has bit 8 set, so it would deposit the same common leaf: only the kind's high bit is wrong.
      const kind3 = { ...d.ops[0], kind: 3 as DataPointKind };
      await expectNoWitness(restate(d, { posted: [kind3], witness: { op: withOp(d, 0, opElements(kind3)) } }), "kind 3");
      await expectNoWitness({ ...d.circuitInput, leafKind: ["2", "0", "0", "0"] }, "empty old leaf of kind 2");
      // A leaf of kind 2 cannot be deposited, but the step does not rely on that: on a state that holds
      // one, Alice's inference on her own dp6 (2 + (1 - 2) = 1 without the check) has no witness.
      const q6 = plan(base, [infer(6n, ALICE)]);
      const odd = climb(base.hashers.h2, 6n, base.hashers.h5(ALICE, 2n, 66n, 0n, 0n), base.siblings(6n));
      const put = (name: string, v: bigint) => [String(v), ...(q6.circuitInput[name] as string[]).slice(1)];
      await expectNoWitness(restate(q6, {
        oldRoot: odd, newRoot: odd, meta: metaWith(q6, { status: 1n }),
        witness: { leafOwner: put("leafOwner", ALICE), leafKind: put("leafKind", 2n), leafContentHash: put("leafContentHash", 66n), leafEmpty: put("leafEmpty", 0n) },
      }), "an old leaf of kind 2");
    });
  });
});
