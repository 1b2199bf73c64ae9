pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// MerklePathRoot(depth): root of the binary Poseidon tree (nodes Poseidon(left, right)) that holds
// `leaf` at the position whose bits, least significant first, are indexBits, with `siblings` its
// neighbours bottom-up. One product per level picks which side the running node goes; the other side
// is what is left of node + sibling, so the order costs no second product.
// Preconditions: indexBits are boolean (the caller's decomposition), depth >= 1.
// Cost (measured, circom 2.2.3): depth * 244 constraints (243 per Poseidon(2), 1 per order); 241 per
// level at --O2.
// TypeScript twin: climb in src/rollup/batchWitness.ts, StateTree in src/rollup/stateTree.ts.
template MerklePathRoot(depth) {
    signal input leaf;
    signal input indexBits[depth];
    signal input siblings[depth];
    signal output root;

    assert(depth >= 1);
    component hash[depth];
    signal left[depth];
    var node = leaf;
    for (var k = 0; k < depth; k++) {
        // bit = 1: the node is a right child, so the sibling goes first.
        left[k] <== node + indexBits[k] * (siblings[k] - node);
        hash[k] = Poseidon(2);
        hash[k].inputs[0] <== left[k];
        hash[k].inputs[1] <== siblings[k] + node - left[k];
        node = hash[k].out;
    }
    root <== node;
}
