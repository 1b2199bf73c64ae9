pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RescaleSign(bits, shift): proves q = floor((in + 2^(shift-1)) / 2^shift) (in rounded half up to
// 2^shift) with q in [-2^(bits-1), 2^(bits-1)), and pos = 1 exactly when q >= 0. Like RescaleAct,
// one bit decomposition of in + rounding + 2^(bits-1+shift) yields remainder, quotient and sign,
// but the sign bit is an output, so a caller can apply ReLU (q * pos) and reuse the same bit as
// ReLU's derivative (training backward pass). An `in` whose quotient leaves the range has no witness.
// Precondition: bits + shift <= 252, so the decomposition cannot wrap around the field.
template RescaleSign(bits, shift) {
    signal input in;
    signal output out;
    signal output pos;

    assert(bits >= 1);
    assert(bits + shift <= 252);
    var round = shift > 0 ? 2 ** (shift - 1) : 0;
    component split = Num2Bits(bits + shift);
    split.in <== in + round + 2 ** (bits - 1 + shift);

    var q = 0;
    for (var i = 0; i < bits; i++) {
        q += split.out[shift + i] * 2 ** i;
    }
    out <== q - 2 ** (bits - 1);
    pos <== split.out[shift + bits - 1];
}
