pragma circom 2.1.6;

include "SortedPermutation.circom";
include "RoundDivConst.circom";

// TrimmedMean(k, t, bits): out = the mean of in[0..k-1] after dropping the t smallest and the t
// largest values, rounded to nearest with ties toward +inf: with s the sorted inputs and m = k - 2t,
// out = floor((2 * (s[t] + … + s[k-1-t]) + m) / 2m). t = floor((k-1)/2) is the coordinate-wise
// median (for even k the rounded mean of the two middle values). For t = 0 no sort is needed: use
// RoundDivConst(k) on the plain sum instead.
// Proof: SortedPermutation proves s is in sorted (the prover supplies s and the permutation block
// perm); the middle sum is linear in s; RoundDivConst proves the division by the constant m.
// Only the sortedness and the multiset matter: which input went where (perm) does not affect out,
// and ties make it non-unique, but s itself is unique (the sorted multiset), hence so is out.
// Cost: k^2 + (k-1) * bits + RoundDivConst(m) (0 for odd-k medians, m = 1).
// Preconditions: every in[i] in [-2^(bits-1), 2^(bits-1)) (caller-checked) and, for m > 1, the
// caller range-checks out to bits bits (RoundDivConst's precondition; out lies in [s[0], s[k-1]],
// so the honest out always fits). 1 <= t, 2t < k, bits <= 240.
template TrimmedMean(k, t, bits) {
    signal input in[k];
    signal input s[k];
    signal input perm[k - 1][k - 1];
    signal output out;

    assert(t >= 1 && 2 * t < k);
    assert(bits <= 240);

    component sorted = SortedPermutation(k, bits);
    for (var i = 0; i < k; i++) {
        sorted.in[i] <== in[i];
        sorted.s[i] <== s[i];
    }
    for (var j = 0; j < k - 1; j++) {
        for (var i = 0; i < k - 1; i++) { sorted.perm[j][i] <== perm[j][i]; }
    }

    var sum = 0;
    for (var j = t; j < k - t; j++) { sum += s[j]; }
    component div = RoundDivConst(k - 2 * t);
    div.num <== sum;
    out <== div.out;
}
