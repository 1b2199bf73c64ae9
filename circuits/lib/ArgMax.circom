pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// ArgMax(n, bits): out = the FIRST index of the largest of in[0..n-1] (ONNX ArgMax with
// select_last_index = 0), inputs in [-2^(bits-1), 2^(bits-1)). A one-hot vector selects the
// claimed maximum; every input must be <= it, and inputs before it strictly smaller, so ties
// resolve to exactly one index.
template ArgMax(n, bits) {
    signal input in[n];
    signal output out;

    var best = 0;
    for (var i = 1; i < n; i++) {
        if (in[i] > in[best]) { best = i; }
    }

    signal hot[n];
    var total = 0;
    var index = 0;
    for (var i = 0; i < n; i++) {
        hot[i] <-- i == best ? 1 : 0;
        hot[i] * (hot[i] - 1) === 0;
        total += hot[i];
        index += i * hot[i];
    }
    total === 1;
    out <== index;

    signal pick[n];
    var chosen = 0;
    for (var i = 0; i < n; i++) {
        pick[i] <== hot[i] * in[i];
        chosen += pick[i];
    }

    // `after` is 1 while i lies before the chosen index: those inputs must be strictly smaller.
    component gap[n];
    var after = 0;
    for (var i = n - 1; i >= 0; i--) {
        gap[i] = Num2Bits(bits);
        gap[i].in <== chosen - in[i] - after;
        after += hot[i];
    }
}
