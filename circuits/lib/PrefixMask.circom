pragma circom 2.1.6;

// PrefixMask(n): out[k] = 1 for k < count and 0 for k >= count, and proves 1 <= count <= n (no
// witness otherwise). out[0] is the constant 1; each later entry satisfies
// out[k] * (out[k-1] - out[k]) = 0, which for a boolean out[k-1] forces out[k] boolean and
// out[k] <= out[k-1]. So out is a run of ones from the start, and its sum, which must be count, is
// the run's length: one constraint per entry instead of a comparison per slot.
// Preconditions: none (the sum lies in 1..n, far below p, so it cannot meet count by wrapping).
// Cost: n - 1 constraints.
template PrefixMask(n) {
    signal input count;
    signal output out[n];

    assert(n >= 1);
    out[0] <== 1;
    var total = 1;
    for (var k = 1; k < n; k++) {
        out[k] <-- k < count ? 1 : 0;
        out[k] * (out[k - 1] - out[k]) === 0;
        total += out[k];
    }
    total === count;
}
