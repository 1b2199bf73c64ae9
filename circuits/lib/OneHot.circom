pragma circom 2.1.6;

// OneHot(m): out[k] = 1 exactly when k = sum bits[i] * 2^i, else 0.
// Precondition: bits[] are already constrained boolean (e.g. from Num2Bits).
// Built one bit at a time: each level splits every entry e into e*(1-b) and e*b, one product per
// entry, so 2^m - 2 constraints in all.
template OneHot(m) {
    signal input bits[m];
    signal output out[2 ** m];

    signal level[m][2 ** m];
    level[0][0] <== 1 - bits[0];
    level[0][1] <== bits[0];
    for (var i = 1; i < m; i++) {
        for (var k = 0; k < 2 ** i; k++) {
            level[i][k + 2 ** i] <== level[i - 1][k] * bits[i];
            level[i][k] <== level[i - 1][k] - level[i][k + 2 ** i];
        }
    }
    for (var k = 0; k < 2 ** m; k++) {
        out[k] <== level[m - 1][k];
    }
}
