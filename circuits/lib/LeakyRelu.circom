pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "RescaleAct.circom";

// LeakyRelu(bits, alphaNum, alphaShift): out = in for in >= 0, otherwise
// round(alphaNum * in / 2^alphaShift). Preconditions: in in [-2^(bits-1), 2^(bits-1)) (checked),
// 0 <= alphaNum <= 2^alphaShift.
template LeakyRelu(bits, alphaNum, alphaShift) {
    signal input in;
    signal output out;

    component split = Num2Bits(bits);
    split.in <== in + 2 ** (bits - 1);
    signal pos <== in * split.out[bits - 1];

    // For in >= 0 the sum is 2^alphaShift * in, which rescales back to in exactly.
    component rescale = RescaleAct(bits, alphaShift, 0);
    rescale.in <== alphaNum * in + (2 ** alphaShift - alphaNum) * pos;
    out <== rescale.out;
}
