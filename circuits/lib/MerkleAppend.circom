pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// MerkleAppend(height, emptySubRoot): proves that the tree with root oldRoot holds an EMPTY
// subtree (root emptySubRoot) at position `index` (given as `height` bits, least significant
// first, already constrained boolean by the caller) and that replacing it with subRoot gives
// newRoot. Both roots climb the same siblings, so one path serves the whole batch: appending B
// leaves costs one path update, not B.
// Preconditions: indexBits are boolean; siblings are the subtree's neighbours bottom-up.
template MerkleAppend(height, emptySubRoot) {
    signal input oldRoot;
    signal input newRoot;
    signal input subRoot;
    signal input indexBits[height];
    signal input siblings[height];

    component oldHash[height];
    component newHash[height];
    signal oldLeft[height];
    signal oldRight[height];
    signal newLeft[height];
    signal newRight[height];
    var oldNode = emptySubRoot;
    var newNode = subRoot;
    for (var k = 0; k < height; k++) {
        // bit = 1: the node is a right child, so it goes second.
        oldLeft[k] <== oldNode + indexBits[k] * (siblings[k] - oldNode);
        oldRight[k] <== siblings[k] + oldNode - oldLeft[k];
        newLeft[k] <== newNode + indexBits[k] * (siblings[k] - newNode);
        newRight[k] <== siblings[k] + newNode - newLeft[k];
        oldHash[k] = Poseidon(2);
        oldHash[k].inputs[0] <== oldLeft[k];
        oldHash[k].inputs[1] <== oldRight[k];
        newHash[k] = Poseidon(2);
        newHash[k].inputs[0] <== newLeft[k];
        newHash[k].inputs[1] <== newRight[k];
        oldNode = oldHash[k].out;
        newNode = newHash[k].out;
    }
    oldRoot === oldNode;
    newRoot === newNode;
}
