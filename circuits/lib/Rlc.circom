pragma circom 2.1.6;

// Rlc(n): out = sum_{j<n} in[j] * r^(j+1) mod p, the random linear combination that binds posted
// values to a statement (h of src/protocol/stateBatch.ts). Horner's rule from the last value,
// acc = (acc + in[j]) * r, spends one product per value and needs no table of powers.
// Preconditions: none (r is a public challenge; in[] are field elements).
// Cost: n constraints.
template Rlc(n) {
    signal input in[n];
    signal input r;
    signal output out;

    assert(n >= 1);
    signal acc[n];
    acc[n - 1] <== in[n - 1] * r;
    for (var j = n - 2; j >= 0; j--) {
        acc[j] <== (acc[j + 1] + in[j]) * r;
    }
    out <== acc[0];
}
