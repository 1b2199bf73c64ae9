pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// PoseidonChain(n): a Poseidon commitment to n raw field elements, in order. out is the end of a chain
// that starts from n and absorbs the elements 15 at a time: acc = n; acc = Poseidon(acc, chunk) for
// each chunk of up to 15 consecutive elements; a last chunk of fewer than 15 uses Poseidon(1 + its
// length), it is not padded. The same shape as PackedHash.circom, but nothing is packed or range
// checked: each input enters the hash as the field element it is.
// Preconditions: n >= 1. The inputs are any field elements; a caller that means them as integers must
// make sure they are below p itself (two integers equal mod p commit alike).
// Cost (measured, circom 2.2.3): one circomlib Poseidon per chunk, 3 * (8 * (k + 1) + its partial
// rounds) for k inputs at --O1: 612 per full chunk (Poseidon(16)), then the last, Poseidon(1 + n mod 15),
// if n mod 15 > 0. --O2 saves 3 per Poseidon and 3 more on the first, whose chained input is the constant
// n. n = 20: 969 (--O1) / 960 (--O2); n = 40: 1692 / 1680; n = 320: 13209 / 13140. No range checks.
// TypeScript twin: poseidonChain in src/protocol/stateBatch.ts.
template PoseidonChain(n) {
    signal input in[n];
    signal output out;

    var full = n \ 15;
    var rest = n - full * 15;

    component chunk[full];
    var acc = n;
    for (var c = 0; c < full; c++) {
        chunk[c] = Poseidon(16);
        chunk[c].inputs[0] <== acc;
        for (var k = 0; k < 15; k++) {
            chunk[c].inputs[k + 1] <== in[c * 15 + k];
        }
        acc = chunk[c].out;
    }
    if (rest > 0) {
        component last = Poseidon(rest + 1);
        last.inputs[0] <== acc;
        for (var k = 0; k < rest; k++) {
            last.inputs[k + 1] <== in[full * 15 + k];
        }
        out <== last.out;
    } else {
        out <== acc;
    }
}
