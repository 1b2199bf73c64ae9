/**
 * The rollup's trace tree in TypeScript, hashing exactly as MerkleSubtreeRoot.circom and
 * MerkleAppend.circom do: Poseidon(left, right), empty leaves 0, depth TREE_DEPTH. A batch of B
 * leaves is appended as one aligned subtree.
 */
import { poseidon } from "../quant/commitment";
import { FlavumError } from "../errors";
import { TREE_DEPTH } from "../protocol/batch";

export type Hash2 = (a: bigint, b: bigint) => bigint;

export async function hasher(): Promise<Hash2> {
  const p = await poseidon();
  return (a, b) => p.F.toObject(p([a, b]));
}

export function log2Exact(n: number): number {
  const l = Math.log2(n);
  if (!Number.isInteger(l) || n < 1) throw new FlavumError(`batch size ${n} must be a power of two`);
  return l;
}

/** zeros[k] = root of an empty subtree of height k. */
export function zeroRoots(h: Hash2, depth = TREE_DEPTH): bigint[] {
  const z = [0n];
  for (let k = 0; k < depth; k++) z.push(h(z[k], z[k]));
  return z;
}

/** All levels of a full subtree over `leaves` (length a power of two); levels[0] = leaves. */
export function subtreeLevels(h: Hash2, leaves: readonly bigint[]): bigint[][] {
  log2Exact(leaves.length);
  const levels = [leaves.slice()];
  while (levels[levels.length - 1].length > 1) {
    const prev = levels[levels.length - 1];
    const next: bigint[] = [];
    for (let i = 0; i < prev.length; i += 2) next.push(h(prev[i], prev[i + 1]));
    levels.push(next);
  }
  return levels;
}

/** Siblings (bottom-up) proving leaf `index` of a subtree: what dApps pass to verifyInference. */
export function subtreePath(levels: bigint[][], index: number): bigint[] {
  const path: bigint[] = [];
  for (let k = 0; k < levels.length - 1; k++) path.push(levels[k][(index >> k) ^ 1]);
  return path;
}

/** A sparse Poseidon tree of depth TREE_DEPTH: only non-empty nodes are stored. */
export class TraceTree {
  private readonly nodes: Map<bigint, bigint>[];
  readonly zeros: bigint[];

  constructor(private readonly h: Hash2, readonly depth = TREE_DEPTH) {
    this.zeros = zeroRoots(h, depth);
    this.nodes = Array.from({ length: depth + 1 }, () => new Map());
  }

  node(level: number, index: bigint): bigint {
    return this.nodes[level].get(index) ?? this.zeros[level];
  }

  get root(): bigint {
    return this.node(this.depth, 0n);
  }

  /** Siblings from level `fromLevel` up to the root for the node at (fromLevel, index). */
  siblings(fromLevel: number, index: bigint): bigint[] {
    const s: bigint[] = [];
    for (let k = fromLevel; k < this.depth; k++) s.push(this.node(k, (index >> BigInt(k - fromLevel)) ^ 1n));
    return s;
  }

  /** Writes a subtree of leaves at aligned position firstLeaf; returns the new root. */
  appendSubtree(firstLeaf: bigint, leaves: readonly bigint[]): bigint {
    const height = log2Exact(leaves.length);
    if (firstLeaf % BigInt(leaves.length) !== 0n) throw new FlavumError(`leaf ${firstLeaf} is not aligned to ${leaves.length}`);
    if (firstLeaf + BigInt(leaves.length) > 1n << BigInt(this.depth)) throw new FlavumError("the trace tree is full");
    const levels = subtreeLevels(this.h, leaves);
    for (let k = 0; k <= height; k++) {
      const base = firstLeaf >> BigInt(k);
      levels[k].forEach((v, i) => (v === this.zeros[k] ? this.nodes[k].delete(base + BigInt(i)) : this.nodes[k].set(base + BigInt(i), v)));
    }
    let idx = firstLeaf >> BigInt(height);
    for (let k = height; k < this.depth; k++) {
      const parent = idx >> 1n;
      const v = this.h(this.node(k, parent << 1n), this.node(k, (parent << 1n) | 1n));
      this.nodes[k + 1].set(parent, v);
      idx = parent;
    }
    return this.root;
  }
}
