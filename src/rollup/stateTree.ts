/**
 * The rollup's state tree in TypeScript (src/protocol/stateBatch.ts), hashing exactly as
 * MerklePathRoot.circom and StateOpStep.circom do: a sparse tree of depth D, nodes
 * Poseidon2(left, right), empty leaf 0, leaf index = data-point id, a data point's leaf
 * Poseidon5(owner, kind, contentHash, asset, balance). Unlike the trace tree it is written one leaf at
 * a time, anywhere, so it keeps the decoded data points beside the hashes: the sequencer reads owners,
 * kinds and balances from it and the exit claims need the fields behind an exited leaf.
 */
import { poseidon } from "../quant/commitment";
import { FIELD_P } from "../quant/fixed";
import { FlavumError } from "../errors";
import { DataPointKind, DataPointLeaf } from "../protocol/stateBatch";
import { Hash2, hasher, zeroRoots } from "./merkle";
import { climb } from "./batchWitness";

/** Poseidon over five inputs: the data-point leaf. */
export type Hash5 = (owner: bigint, kind: bigint, contentHash: bigint, asset: bigint, balance: bigint) => bigint;

export interface StateHashers {
  h2: Hash2;
  h5: Hash5;
}

/** dpId is 64 bits in a posted operation, so no deeper tree could be addressed. */
export const MAX_STATE_DEPTH = 64;

export async function stateHashers(): Promise<StateHashers> {
  const p = await poseidon();
  return { h2: await hasher(), h5: (...v) => p.F.toObject(p(v)) };
}

function checkDataPoint(l: DataPointLeaf, where: string): void {
  if (l.kind !== DataPointKind.Owned && l.kind !== DataPointKind.Common)
    throw new FlavumError(`${where}: kind ${l.kind} is neither 0 (owned) nor 1 (common)`);
  if (l.balance < 0n || l.balance >= 1n << 128n) throw new FlavumError(`${where}: balance ${l.balance} does not fit 128 bits`);
  for (const [name, v] of [["owner", l.owner], ["contentHash", l.contentHash], ["asset", l.asset]] as const)
    if (v < 0n || v >= FIELD_P) throw new FlavumError(`${where}: ${name} ${v} is not a field element`);
}

function leafOf(hs: StateHashers, l: DataPointLeaf): bigint {
  return hs.h5(l.owner, BigInt(l.kind), l.contentHash, l.asset, l.balance);
}

/** Poseidon5(owner, kind, contentHash, asset, balance); an empty data point has no leaf hash (its leaf is 0). */
export async function dataPointLeafHash(l: DataPointLeaf): Promise<bigint> {
  checkDataPoint(l, "data point");
  return leafOf(await stateHashers(), l);
}

/** What an exit puts in its slot of the batch's exit tree: Poseidon2(dpId, leaf before the exit). */
export async function exitLeafHash(dpId: bigint, leafHash: bigint): Promise<bigint> {
  return (await hasher())(dpId, leafHash);
}

/** Whether `leaf` sits at `index` of the tree with `root`, with `siblings` bottom-up (their count is the depth). */
export async function verifyStatePath(root: bigint, index: bigint, leaf: bigint, siblings: readonly bigint[]): Promise<boolean> {
  if (index < 0n || index >= 1n << BigInt(siblings.length)) return false;
  return climb(await hasher(), index, leaf, siblings) === root;
}

export class StateTree {
  readonly zeros: bigint[];
  /** nodes[level]: only nodes that differ from the empty subtree of that level. */
  private readonly nodes: Map<bigint, bigint>[];
  private readonly points: Map<bigint, DataPointLeaf>;

  static async create(depth: number): Promise<StateTree> {
    return new StateTree(await stateHashers(), depth);
  }

  constructor(readonly hashers: StateHashers, readonly depth: number, from?: StateTree) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_STATE_DEPTH)
      throw new FlavumError(`state tree depth ${depth} must be 1..${MAX_STATE_DEPTH}`);
    this.zeros = from?.zeros ?? zeroRoots(hashers.h2, depth);
    this.nodes = from ? from.nodes.map((m) => new Map(m)) : Array.from({ length: depth + 1 }, () => new Map());
    this.points = new Map(from?.points);
  }

  get capacity(): bigint {
    return 1n << BigInt(this.depth);
  }

  private checkIndex(index: bigint): void {
    if (index < 0n || index >= this.capacity) throw new FlavumError(`data point ${index} is outside the state tree (ids 0..${this.capacity - 1n} at depth ${this.depth})`);
  }

  private node(level: number, index: bigint): bigint {
    return this.nodes[level].get(index) ?? this.zeros[level];
  }

  get root(): bigint {
    return this.node(this.depth, 0n);
  }

  /** The leaf hash at `index`: 0 when empty. */
  leaf(index: bigint): bigint {
    this.checkIndex(index);
    return this.node(0, index);
  }

  /** The data point at `index`, or undefined when its leaf is empty. */
  dataPoint(index: bigint): DataPointLeaf | undefined {
    this.checkIndex(index);
    const l = this.points.get(index);
    return l && { ...l };
  }

  /** Every non-empty data point, by id. */
  dataPoints(): Map<bigint, DataPointLeaf> {
    return new Map([...this.points].map(([k, v]) => [k, { ...v }]));
  }

  hashLeaf(l: DataPointLeaf): bigint {
    checkDataPoint(l, "data point");
    return leafOf(this.hashers, l);
  }

  hashExit(dpId: bigint, leafHash: bigint): bigint {
    return this.hashers.h2(dpId, leafHash);
  }

  /** Writes data point `index` (undefined empties it); returns the new root. */
  set(index: bigint, leaf: DataPointLeaf | undefined): bigint {
    this.checkIndex(index);
    let node = 0n;
    if (leaf) {
      checkDataPoint(leaf, `data point ${index}`);
      node = leafOf(this.hashers, leaf);
      this.points.set(index, { ...leaf });
    } else {
      this.points.delete(index);
    }
    let idx = index;
    for (let k = 0; k <= this.depth; k++) {
      if (node === this.zeros[k]) this.nodes[k].delete(idx);
      else this.nodes[k].set(idx, node);
      if (k === this.depth) break;
      const sib = this.node(k, idx ^ 1n);
      node = idx & 1n ? this.hashers.h2(sib, node) : this.hashers.h2(node, sib);
      idx >>= 1n;
    }
    return this.root;
  }

  /** The siblings of leaf `index`, bottom-up: what the state circuit and exodus withdrawals take. */
  siblings(index: bigint): bigint[] {
    this.checkIndex(index);
    const s: bigint[] = [];
    for (let k = 0; k < this.depth; k++) s.push(this.node(k, (index >> BigInt(k)) ^ 1n));
    return s;
  }

  clone(): StateTree {
    return new StateTree(this.hashers, this.depth, this);
  }
}
