pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "OneHot.circom";
include "RescaleAct.circom";

// PiecewiseLinear(bitsIn, segBits, guard, bitsOut, A, D): a piecewise-linear function over the
// whole input range in = [-2^(bitsIn-1), 2^(bitsIn-1)) (no witness outside it). With
// u = in + 2^(bitsIn-1), the top segBits bits of u pick a segment s and the low L = bitsIn - segBits
// bits t interpolate:
//   out = round((A[s] * 2^L + D[s] * t) / 2^(L + guard))   (round half up),
// with out range-checked to bitsOut signed bits (no witness when it does not fit).
// A, D are tables of 2^segBits constants: segment start values and rises, at scale 2^-guard
// relative to out. One Num2Bits(bitsIn) gives s and t; a one-hot vector of s selects A[s], D[s]
// (linear in the one-hot signals); one product gives the rise D[s] * t; RescaleAct rounds.
// Cost: bitsIn + (2^segBits - 2) + 1 + bitsOut + L + guard constraints.
// L = 0 (segBits = bitsIn) is an exact lookup table on a small integer input: t = 0, no rise, and
// every entry round(A[s] / 2^guard) is a constant, so out is the one-hot selection of those
// constants, with no product and no rescale: bitsIn + 2^segBits - 2 constraints. Then every entry
// must fit bitsOut signed bits (checked when the circuit is compiled).
// Preconditions: 1 <= segBits <= bitsIn; bitsOut + L + guard <= 252; |A|, |D| small enough that
// A * 2^L + D * t stays far below the field size (any table of bitsOut + guard + L bits is).
template PiecewiseLinear(bitsIn, segBits, guard, bitsOut, A, D) {
    signal input in;
    signal output out;

    assert(segBits >= 1);
    assert(segBits <= bitsIn);
    assert(guard >= 0);
    var L = bitsIn - segBits;
    component split = Num2Bits(bitsIn);
    split.in <== in + 2 ** (bitsIn - 1);

    component seg = OneHot(segBits);
    for (var i = 0; i < segBits; i++) {
        seg.bits[i] <== split.out[L + i];
    }

    if (L == 0) {
        var o = 0;
        for (var k = 0; k < 2 ** segBits; k++) {
            // round(A[k] / 2^guard), half up; circom's \ is only a floor for non-negative values.
            var v = A[k];
            if (guard > 0) {
                v = A[k] + 2 ** (guard - 1);
                if (v < 0) {
                    v = -((-v + 2 ** guard - 1) \ 2 ** guard);
                } else {
                    v = v \ 2 ** guard;
                }
            }
            assert(v >= -(2 ** (bitsOut - 1)) && v < 2 ** (bitsOut - 1));
            o += v * seg.out[k];
        }
        out <== o;
    } else {
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
}
