pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// MerkleSubtreeRoot(levels): root of the binary Poseidon tree over 2^levels leaves, each node
// Poseidon(left, right). The TypeScript twin is src/rollup/merkle.ts.
template MerkleSubtreeRoot(levels) {
    var n = 2 ** levels;
    signal input leaves[n];
    signal output root;

    if (levels == 0) {
        root <== leaves[0];
    } else {
        component node[n - 1];
        // Nodes in heap order from the bottom: level-by-level, first n/2 hash leaf pairs.
        for (var i = 0; i < n / 2; i++) {
            node[i] = Poseidon(2);
            node[i].inputs[0] <== leaves[2 * i];
            node[i].inputs[1] <== leaves[2 * i + 1];
        }
        var prev = 0;
        var width = n / 2;
        var next = n / 2;
        while (width > 1) {
            for (var i = 0; i < width / 2; i++) {
                node[next + i] = Poseidon(2);
                node[next + i].inputs[0] <== node[prev + 2 * i].out;
                node[next + i].inputs[1] <== node[prev + 2 * i + 1].out;
            }
            prev = next;
            next += width / 2;
            width = width / 2;
        }
        root <== node[n - 2].out;
    }
}
