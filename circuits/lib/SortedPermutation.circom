pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// SortedPermutation(k, bits): s[0..k-1] is the multiset in[0..k-1] in non-decreasing order.
//
// Permutation: a k x k matrix M whose rows and columns each sum to 1 and M[j][i] * (in[i] - s[j]) = 0
// for every j, i. M needs no booleanity: for a value v let A = {i : in[i] = v}, B = {j : s[j] = v};
// M[j][i] != 0 only where in[i] = s[j], so summing M over B x A gives |B| (by rows) and |A| (by
// columns). |A| = |B| mod p with both <= k < p, so the multisets are equal (ties included), for any
// field-valued M. The row/column sums hold by construction: the prover supplies only the top-left
// (k-1) x (k-1) block `perm`, the last row and column are 1 minus the sums (linear, no constraint).
// The honest witness is the 0/1 matrix of a stable sort, M[j][i] = 1 iff s[j] is in[i].
// Sorted: s[j+1] - s[j] in [0, 2^bits) (Num2Bits). Since s is a permutation of in, the difference is
// in (-2^bits, 2^bits); a negative one is p - |d| in the field and has no bits-bit decomposition.
//
// Why this construction: it costs k^2 + (k-1) * bits. A sorting network costs, per compare-and-swap,
// a (bits+1)-bit comparison plus one multiplexer product (bits + 2), times 3/5/9/12/16/19 comparators
// for k = 3 … 8: 60 vs 45 (k = 3) and 380 vs 190 (k = 8) at bits = 18, so the matrix is cheaper for
// every k the merges use. A random-challenge grand product would be cheaper still, but needs a
// Fiat-Shamir challenge bound to s (hashing s costs more than the matrix saves for k <= 8).
//
// Cost: k^2 + (k-1) * bits constraints (--O2).
// Preconditions: every in[i] is in [-2^(bits-1), 2^(bits-1)) (the caller range-checks it; the merge
// circuits' PackedHash of each input does); 1 <= bits <= 252; 2 <= k.
template SortedPermutation(k, bits) {
    signal input in[k];
    signal input s[k];
    signal input perm[k - 1][k - 1];

    assert(k >= 2);
    assert(bits >= 1 && bits <= 252);

    // The full matrix as linear expressions of perm: rows and columns sum to 1 by construction.
    var M[k][k];
    var total = 0;
    for (var j = 0; j < k - 1; j++) {
        var row = 0;
        for (var i = 0; i < k - 1; i++) {
            M[j][i] = perm[j][i];
            row += perm[j][i];
            total += perm[j][i];
        }
        M[j][k - 1] = 1 - row;
    }
    for (var i = 0; i < k - 1; i++) {
        var col = 0;
        for (var j = 0; j < k - 1; j++) { col += perm[j][i]; }
        M[k - 1][i] = 1 - col;
    }
    // 1 - (last row's other entries) = 1 - Σ_i (1 - col_i) = 2 - k + total.
    M[k - 1][k - 1] = 2 - k + total;

    // An entry may be nonzero only where s[j] equals in[i].
    for (var j = 0; j < k; j++) {
        for (var i = 0; i < k; i++) {
            M[j][i] * (in[i] - s[j]) === 0;
        }
    }

    component step[k - 1];
    for (var j = 0; j < k - 1; j++) {
        step[j] = Num2Bits(bits);
        step[j].in <== s[j + 1] - s[j];
    }
}
