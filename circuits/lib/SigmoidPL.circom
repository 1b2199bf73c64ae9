pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "OneHot.circom";
include "RescaleAct.circom";

// SigmoidPL(bitsIn, segBits, guard, bitsOut, A, D): a piecewise-linear sigmoid over the whole input
// range in = [-2^(bitsIn-1), 2^(bitsIn-1)). With u = in + 2^(bitsIn-1), the top segBits bits of u
// pick a segment s and the low L = bitsIn - segBits bits t interpolate:
//   out = round((A[s] * 2^L + D[s] * t) / 2^(L + guard)).
// A, D are the quantized segment start values and rises (tables of 2^segBits constants).
// Preconditions: segBits >= 1; out fits bitsOut signed bits (true for a sigmoid table).
template SigmoidPL(bitsIn, segBits, guard, bitsOut, A, D) {
    signal input in;
    signal output out;

    var L = bitsIn - segBits;
    component split = Num2Bits(bitsIn);
    split.in <== in + 2 ** (bitsIn - 1);

    component seg = OneHot(segBits);
    for (var i = 0; i < segBits; i++) {
        seg.bits[i] <== split.out[L + i];
    }
    var t = 0;
    for (var i = 0; i < L; i++) {
        t += split.out[i] * 2 ** i;
    }
    var a = 0;
    var d = 0;
    for (var k = 0; k < 2 ** segBits; k++) {
        a += A[k] * seg.out[k];
        d += D[k] * seg.out[k];
    }
    signal rise <== d * t;

    component rescale = RescaleAct(bitsOut, L + guard, 0);
    rescale.in <== a * 2 ** L + rise;
    out <== rescale.out;
}
