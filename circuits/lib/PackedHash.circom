pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";

// PackedHash(n, bits): a Poseidon commitment to n signed values, each in [-2^(bits-1), 2^(bits-1)).
// Values are offset to unsigned, packed floor(250 / bits) to a field element (the range checks make
// the packing injective), and the packed elements are absorbed 15 at a time into a Poseidon chain
// that starts from n: h = n; h = Poseidon(h, chunk) for each chunk (the last chunk is not padded).
// The TypeScript twin is src/quant/commitment.ts.
template PackedHash(n, bits) {
    signal input in[n];
    signal output out;

    var per = 250 \ bits;
    var packedCount = (n + per - 1) \ per;
    var full = packedCount \ 15;
    var rest = packedCount - full * 15;

    component range[n];
    var packed[packedCount];
    for (var j = 0; j < packedCount; j++) { packed[j] = 0; }
    for (var i = 0; i < n; i++) {
        range[i] = Num2Bits(bits);
        range[i].in <== in[i] + 2 ** (bits - 1);
        packed[i \ per] += range[i].in * 2 ** (bits * (i % per));
    }

    component chunk[full];
    var h = n;
    for (var c = 0; c < full; c++) {
        chunk[c] = Poseidon(16);
        chunk[c].inputs[0] <== h;
        for (var k = 0; k < 15; k++) {
            chunk[c].inputs[k + 1] <== packed[c * 15 + k];
        }
        h = chunk[c].out;
    }
    if (rest > 0) {
        component last = Poseidon(rest + 1);
        last.inputs[0] <== h;
        for (var k = 0; k < rest; k++) {
            last.inputs[k + 1] <== packed[full * 15 + k];
        }
        out <== last.out;
    } else {
        out <== h;
    }
}
