pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RescaleAct(bits, shift, relu): proves q = floor((in + 2^(shift-1)) / 2^shift), i.e. `in` rounded
// half up to 2^shift, with q in [-2^(bits-1), 2^(bits-1)); out = q, or max(q, 0) when relu = 1.
// One bit decomposition of in + rounding + 2^(bits-1+shift) gives the remainder (low `shift`
// bits), the quotient (high `bits` bits) and the sign (top bit) together, so remainder, range and
// sign cost bits + shift constraints (+1 for relu) instead of a full-width comparison.
// Precondition: bits + shift <= 252, so the decomposition cannot wrap around the field.
template RescaleAct(bits, shift, relu) {
    signal input in;
    signal output out;

    assert(bits + shift <= 252);
    var round = shift > 0 ? 2 ** (shift - 1) : 0;
    component split = Num2Bits(bits + shift);
    split.in <== in + round + 2 ** (bits - 1 + shift);

    var q = 0;
    for (var i = 0; i < bits; i++) {
        q += split.out[shift + i] * 2 ** i;
    }
    q -= 2 ** (bits - 1);

    if (relu == 1) {
        out <== q * split.out[shift + bits - 1];
    } else {
        out <== q;
    }
}
