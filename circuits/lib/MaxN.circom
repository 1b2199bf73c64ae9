pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// MaxN(n, bits): out = max(in[0..n-1]) for inputs in [-2^(bits-1), 2^(bits-1)).
// out >= every input (each difference fits `bits` unsigned bits) and out equals one of them (the
// product of the differences is zero), so no other value satisfies both.
template MaxN(n, bits) {
    signal input in[n];
    signal output out;

    // circom compares field elements as signed values in (-p/2, p/2], which is what we want here.
    var best = 0;
    for (var i = 1; i < n; i++) {
        if (in[i] > in[best]) { best = i; }
    }
    out <-- in[best];

    component gap[n];
    for (var i = 0; i < n; i++) {
        gap[i] = Num2Bits(bits);
        gap[i].in <== out - in[i];
    }

    signal prod[n];
    prod[0] <== out - in[0];
    for (var i = 1; i < n; i++) {
        prod[i] <== prod[i - 1] * (out - in[i]);
    }
    prod[n - 1] === 0;
}
