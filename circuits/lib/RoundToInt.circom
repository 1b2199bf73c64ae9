pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// RoundToInt(bits, shift, mode): in is a signed bits-bit value at scale 2^-shift; out is the
// integer (scale 2^0) in / 2^shift rounded by mode:
//   0: half to even (ONNX Round)   1: floor   2: ceil   3: toward zero (ONNX Cast float -> int).
// One decomposition of u = in + 2^(B-1) in B = max(bits, shift + 2) bits gives the fraction f
// (low shift bits), fl = floor(in / 2^shift) (high bits, minus 2^(B-1-shift)) and the sign (top
// bit: 1 for in >= 0). As B - 1 > shift, 2^(B-1-shift) is even, so bit `shift` of u is fl's parity.
// (B = bits unless shift >= bits - 1, where |in / 2^shift| <= 1 and out is -1, 0 or 1.)
//   1 floor: out = fl.                                        B constraints.
//   2 ceil: out = fl + (f != 0), one IsZero on f.              B + 2.
//   3 toward zero: out = fl + (f != 0) * (in < 0).             B + 3.
//   0 half to even: half up (fl + the top fraction bit), minus 1 on a tie with even fl: that is
//     w = 0 for w = (f's low shift-1 bits) + 2^(shift-1) * (1 - top fraction bit) + 2^shift *
//     parity, a sum of non-negative terms below 2^(shift+1), so one IsZero on w.   B + 2.
// out lies in [-2^(bits-1-shift), 2^(bits-1-shift)] (both ends reachable by ceil/round; -1..1 when
// shift >= bits - 1), so it fits max(2, bits - shift + 1) signed bits.
// Preconditions: in in [-2^(bits-1), 2^(bits-1)) (the producer's range check; values outside
// [-2^(B-1), 2^(B-1)) have no witness); shift >= 1; B <= 252; 0 <= mode <= 3.
template RoundToInt(bits, shift, mode) {
    signal input in;
    signal output out;

    assert(shift >= 1);
    assert(mode >= 0 && mode <= 3);
    var B = bits > shift + 1 ? bits : shift + 2;
    assert(B <= 252);
    component split = Num2Bits(B);
    split.in <== in + 2 ** (B - 1);

    var fl = 0;
    for (var i = shift; i < B; i++) {
        fl += split.out[i] * 2 ** (i - shift);
    }
    fl -= 2 ** (B - 1 - shift);
    var f = 0;
    for (var i = 0; i < shift; i++) {
        f += split.out[i] * 2 ** i;
    }

    if (mode == 1) {
        out <== fl;
    } else if (mode == 0) {
        var w = 0;
        for (var i = 0; i < shift - 1; i++) {
            w += split.out[i] * 2 ** i;
        }
        w += (1 - split.out[shift - 1]) * 2 ** (shift - 1) + split.out[shift] * 2 ** shift;
        component tieEven = IsZero();
        tieEven.in <== w;
        out <== fl + split.out[shift - 1] - tieEven.out;
    } else {
        component exact = IsZero();
        exact.in <== f;
        if (mode == 2) {
            out <== fl + 1 - exact.out;
        } else {
            signal up <== (1 - exact.out) * (1 - split.out[B - 1]);
            out <== fl + up;
        }
    }
}
