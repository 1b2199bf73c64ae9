pragma circom 2.1.6;

include "PiecewiseLinear.circom";

// SigmoidPL(bitsIn, segBits, guard, bitsOut, A, D): a piecewise-linear sigmoid over the whole input
// range in = [-2^(bitsIn-1), 2^(bitsIn-1)): PiecewiseLinear with a sigmoid's tables. With
// u = in + 2^(bitsIn-1), the top segBits bits of u pick a segment s and the low L = bitsIn - segBits
// bits t interpolate:
//   out = round((A[s] * 2^L + D[s] * t) / 2^(L + guard)).
// A, D are the quantized segment start values and rises (tables of 2^segBits constants, built by
// src/quant/sigmoidPL.ts). The wrapper adds no constraint: the same cost as PiecewiseLinear,
// bitsIn + 2^segBits - 1 + bitsOut + L + guard (299 for SigmoidPL(16, 8, 4, 16, A, D)).
// Preconditions: segBits >= 1; out fits bitsOut signed bits (true for a sigmoid table).
template SigmoidPL(bitsIn, segBits, guard, bitsOut, A, D) {
    signal input in;
    signal output out;

    component pl = PiecewiseLinear(bitsIn, segBits, guard, bitsOut, A, D);
    pl.in <== in;
    out <== pl.out;
}
