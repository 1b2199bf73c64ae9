pragma circom 2.1.6;

// LabelOneHot(k): out[c] = 1 exactly when in = c, for a class label in in [0, k); no witness for any
// other value of in (a label out of range, negative, or not an integer).
// out[c] boolean (k constraints), sum out = 1 and sum c * out[c] = in (linear), so out is one-hot
// and points at in.
// Cost: k constraints.
template LabelOneHot(k) {
    signal input in;
    signal output out[k];

    assert(k >= 1);
    var total = 0;
    var index = 0;
    for (var c = 0; c < k; c++) {
        out[c] <-- in == c ? 1 : 0;
        out[c] * (out[c] - 1) === 0;
        total += out[c];
        index += c * out[c];
    }
    total === 1;
    index === in;
}
