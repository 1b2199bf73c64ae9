pragma circom 2.1.6;

include "OneHot.circom";

// PiecewiseExp(bitsE, segBits, gated, H, T): out = keep * H[hi] * T[lo] for an unsigned gap e given
// by its bits (bits[0] lowest), hi = the top segBits bits of e, lo = the low bitsE - segBits bits.
// With H[s] = round(2^se * exp(-s * 2^lo / 2^sz)) and T[t] = round(2^se * exp(-t / 2^sz)) this is
// exp(-e / 2^sz) at scale 2^(2*se): a piecewise exponential over [0, 2^bitsE), each segment its start
// value times the exact in-segment decay, so the only error is the rounding of the two entries. The
// tables are built by src/training/softmax.ts. gated = 1 multiplies by keep (0 past the table's
// range: the caller's saturation flag); gated = 0 ignores keep (the caller still assigns it).
// Two one-hot vectors select H[hi] and T[lo] (linear in them); one product multiplies them.
// Cost: (2^segBits - 2) + (2^(bitsE - segBits) - 2) + 1 + gated constraints.
// Preconditions: bits[] boolean (from a Num2Bits); keep boolean; 1 <= segBits < bitsE; H and T have
// 2^segBits and 2^(bitsE - segBits) entries, small enough that H * T stays far below the field size.
template PiecewiseExp(bitsE, segBits, gated, H, T) {
    signal input bits[bitsE];
    signal input keep;
    signal output out;

    assert(segBits >= 1);
    assert(segBits < bitsE);
    var lo = bitsE - segBits;
    component hiHot = OneHot(segBits);
    for (var i = 0; i < segBits; i++) {
        hiHot.bits[i] <== bits[lo + i];
    }
    component loHot = OneHot(lo);
    for (var i = 0; i < lo; i++) {
        loHot.bits[i] <== bits[i];
    }
    var h = 0;
    for (var s = 0; s < 2 ** segBits; s++) {
        h += H[s] * hiHot.out[s];
    }
    var t = 0;
    for (var s = 0; s < 2 ** lo; s++) {
        t += T[s] * loHot.out[s];
    }
    if (gated == 1) {
        signal kept <== keep * h;
        out <== kept * t;
    } else {
        out <== h * t;
    }
}
