pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RescaleClamp(bits, shift, bitsOut): proves q = floor((in + 2^(shift-1)) / 2^shift) with q in
// [-2^(bits-1), 2^(bits-1)) (no witness otherwise), out = q clamped to
// [-2^(bitsOut-1), 2^(bitsOut-1) - 1], and pos = 1 exactly when q >= 0.
// The clamp reuses the rescale's bit decomposition: with u = q + 2^(bits-1), q lies in the narrow
// range iff bits bitsOut-1 .. bits-2 of u all equal 1 - pos (all 0 for q >= 0, all 1 for q < 0).
// Counting mismatches costs one product, an IsZero two, the selection one: bits + shift + 4 in all.
// Used before a sigmoid, whose table only covers the narrow range and is flat outside it.
// Preconditions: 1 <= bitsOut <= bits, bits + shift <= 252.
template RescaleClamp(bits, shift, bitsOut) {
    signal input in;
    signal output out;
    signal output pos;

    assert(bitsOut >= 1);
    assert(bitsOut <= bits);
    assert(bits + shift <= 252);
    var round = shift > 0 ? 2 ** (shift - 1) : 0;
    component split = Num2Bits(bits + shift);
    split.in <== in + round + 2 ** (bits - 1 + shift);

    var q = 0;
    for (var i = 0; i < bits; i++) {
        q += split.out[shift + i] * 2 ** i;
    }
    q -= 2 ** (bits - 1);
    pos <== split.out[shift + bits - 1];

    var m = bits - bitsOut;
    if (m == 0) {
        out <== q;
    } else {
        var high = 0;
        for (var i = bitsOut - 1; i < bits - 1; i++) {
            high += split.out[shift + i];
        }
        // mismatches = high when pos = 1 (those bits must be 0), m - high when pos = 0 (must be 1).
        signal flip <== pos * (2 * high - m);
        signal mismatches <== m - high + flip;
        signal inv;
        inv <-- mismatches != 0 ? 1 / mismatches : 0;
        signal inRange <== 1 - mismatches * inv;
        mismatches * inRange === 0;
        // Saturation value: 2^(bitsOut-1) - 1 for pos = 1, -2^(bitsOut-1) for pos = 0.
        var sat = pos * (2 ** bitsOut - 1) - 2 ** (bitsOut - 1);
        signal pick <== inRange * (q - sat);
        out <== sat + pick;
    }
}
