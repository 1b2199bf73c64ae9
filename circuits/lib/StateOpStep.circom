pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "MerklePathRoot.circom";

// StateOpStep(depth): one slot of a state batch (src/protocol/stateBatch.ts) on a state tree of
// depth `depth`. Proves, for the posted operation op[0..4] applied to the tree with root rootIn:
//   - e0 decomposes into its 208 bits; the type is one of 0..4 (NOOP, DEPOSIT, TRANSFER, EXIT,
//     INFER), the kind a single bit; unless NOOP, 1 <= dpId < 2^depth;
//   - unless NOOP, the given old leaf (owner, kind, contentHash, asset, balance, or empty = 1 with
//     every field 0; leaf 0 when empty, else Poseidon5 of the fields) is at index dpId under rootIn;
//   - valid = DEPOSIT (whose leaf must be empty: no witness otherwise), or TRANSFER / EXIT of a
//     non-empty owned leaf whose owner is a = op[1], or INFER of a non-empty leaf that is common or
//     owned by a; NOOP is never valid;
//   - rootOut = rootIn for NOOP, else the root with the new leaf at dpId on the same siblings:
//     DEPOSIT (a, kind, e4, b, e3), valid TRANSFER owner := b, valid EXIT 0, anything else unchanged;
//   - exitLeaf = Poseidon2(dpId, old leaf) for a valid EXIT, else 0.
// The new leaf is one Poseidon5 over muxed inputs: a deposit starts from the all-zero fields of its
// empty leaf, so adding the op's values in (and b - owner for a transfer) gives every case.
// Elements the semantics ignore (requestId, createdBlock, e2..e4 of EXIT and INFER) are left free
// here: tying op[] to the posted operation is the batch circuit's job.
// Preconditions: none on the inputs (every range the semantics need is checked here).
// Cost (measured, circom 2.2.3): 1118 + 488 * depth constraints (depth 6: 4046, depth 16: 8926): 196
// the e0 decomposition (the 12 bits forced to 0 become constants), 2 * 324 the two Poseidon5, 243 the
// exit leaf, 2 * 244 per level the old and new paths, 31 the selectors, validity and muxes. At --O2:
// 1109 + 482 * depth (depth 6: 4001, depth 16: 8821).
template StateOpStep(depth) {
    signal input rootIn;
    signal input op[5];
    signal input owner;
    signal input kind;
    signal input contentHash;
    signal input asset;
    signal input balance;
    signal input empty;
    signal input siblings[depth];
    signal output rootOut;
    signal output valid;
    signal output exitLeaf;

    assert(depth >= 1 && depth <= 64);

    // e0 = type (8) | kind << 8 (8) | dpId << 16 (64) | requestId << 80 (64) | createdBlock << 144 (64)
    component e0 = Num2Bits(208);
    e0.in <== op[0];
    // Types 0..4 are bits 0..2 with no bit above and not b2 together with b0 or b1 (5, 6, 7): each
    // selector is then a linear form of the bits and one product.
    for (var i = 3; i < 8; i++) { e0.out[i] === 0; }
    e0.out[2] * (e0.out[0] + e0.out[1]) === 0;
    signal both <== e0.out[0] * e0.out[1];
    var isDeposit = e0.out[0] - both;
    var isTransfer = e0.out[1] - both;
    var isExit = both;
    var isInfer = e0.out[2];
    var live = isDeposit + isTransfer + isExit + isInfer;
    for (var i = 9; i < 16; i++) { e0.out[i] === 0; }
    var opKind = e0.out[8];

    var id = 0;
    for (var i = 0; i < depth; i++) { id += e0.out[16 + i] * 2 ** i; }
    // Index bits beyond the tree would alias another data point's leaf.
    if (depth < 64) {
        var high = 0;
        for (var i = depth; i < 64; i++) { high += e0.out[16 + i] * 2 ** (i - depth); }
        high * live === 0;
    }
    // Leaf 0 is never used: only NOOP may name it.
    signal idInv;
    idInv <-- id != 0 ? 1 / id : 0;
    signal liveInv <== live * idInv;
    liveInv * id === live;
    signal indexBits[depth];
    for (var i = 0; i < depth; i++) { indexBits[i] <== e0.out[16 + i]; }

    // The old leaf. Zero fields when empty make the deposit's new-leaf inputs plain sums, and kind
    // alone then says "non-empty and common".
    empty * (empty - 1) === 0;
    kind * (kind - 1) === 0;
    empty * owner === 0;
    empty * kind === 0;
    empty * contentHash === 0;
    empty * asset === 0;
    empty * balance === 0;
    component oldHash = Poseidon(5);
    oldHash.inputs[0] <== owner;
    oldHash.inputs[1] <== kind;
    oldHash.inputs[2] <== contentHash;
    oldHash.inputs[3] <== asset;
    oldHash.inputs[4] <== balance;
    signal oldLeaf <== (1 - empty) * oldHash.out;
    component oldPath = MerklePathRoot(depth);
    oldPath.leaf <== oldLeaf;
    for (var i = 0; i < depth; i++) {
        oldPath.indexBits[i] <== indexBits[i];
        oldPath.siblings[i] <== siblings[i];
    }
    live * (oldPath.root - rootIn) === 0;

    // Validity.
    component isOwner = IsZero();
    isOwner.in <== owner - op[1];
    signal ownedAndOwner <== (1 - kind) * isOwner.out;
    signal ownedByA <== (1 - empty) * ownedAndOwner;
    signal validTransfer <== isTransfer * ownedByA;
    signal validExit <== isExit * ownedByA;
    signal validInfer <== isInfer * (kind + ownedByA);
    valid <== isDeposit + validTransfer + validExit + validInfer;
    isDeposit * (1 - empty) === 0;

    // The new leaf.
    signal depOwner <== isDeposit * op[1];
    signal newOwner <== validTransfer * (op[2] - owner);
    signal depKind <== isDeposit * opKind;
    signal depContent <== isDeposit * op[4];
    signal depAsset <== isDeposit * op[2];
    signal depBalance <== isDeposit * op[3];
    component newHash = Poseidon(5);
    newHash.inputs[0] <== owner + depOwner + newOwner;
    newHash.inputs[1] <== kind + depKind;
    newHash.inputs[2] <== contentHash + depContent;
    newHash.inputs[3] <== asset + depAsset;
    newHash.inputs[4] <== balance + depBalance;
    // Non-empty afterwards: it was (and was not exited), or a deposit filled it.
    signal newLeaf <== (1 - empty + isDeposit - validExit) * newHash.out;
    component newPath = MerklePathRoot(depth);
    newPath.leaf <== newLeaf;
    for (var i = 0; i < depth; i++) {
        newPath.indexBits[i] <== indexBits[i];
        newPath.siblings[i] <== siblings[i];
    }
    rootOut <== rootIn + live * (newPath.root - rootIn);

    component exitHash = Poseidon(2);
    exitHash.inputs[0] <== id;
    exitHash.inputs[1] <== oldLeaf;
    exitLeaf <== validExit * exitHash.out;
}
