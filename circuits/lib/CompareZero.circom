pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// CompareZero(bits, op): out = 1 if the comparison of in with zero holds, else 0:
//   op 0: in > 0    op 1: in >= 0    op 2: in == 0    op 3: in != 0.
// op 1: the top bit of in + 2^(bits-1) decomposed in bits bits is 1 exactly when in >= 0:
//   bits constraints.
// op 0: in > 0 iff in - 1 >= 0; in - 1 + 2^bits lies in [0, 2^(bits+1)), and its top bit in a
//   decomposition of bits + 1 bits is 1 exactly when in >= 1: bits + 1 constraints. (This accepts,
//   and answers correctly, any in in [1 - 2^bits, 2^bits]; beyond that there is no witness.)
// op 2 / op 3: an IsZero-style inverse: inv = 1/in (0 for in = 0), out = 1 - in * inv (op 2) or
//   in * inv (op 3), and in * out = 0 (op 2) or in * (1 - out) = 0 (op 3): 2 constraints, for any
//   field element in.
// Preconditions: 0 <= op <= 3; for op 0 and 1, in in [-2^(bits-1), 2^(bits-1)) (the producer's
// range check; op 1 has no witness outside it) and bits <= 252.
template CompareZero(bits, op) {
    signal input in;
    signal output out;

    assert(op >= 0 && op <= 3);
    assert(bits >= 1 && bits <= 252);
    if (op == 0) {
        component split = Num2Bits(bits + 1);
        split.in <== in - 1 + 2 ** bits;
        out <== split.out[bits];
    } else if (op == 1) {
        component split = Num2Bits(bits);
        split.in <== in + 2 ** (bits - 1);
        out <== split.out[bits - 1];
    } else {
        signal inv;
        inv <-- in != 0 ? 1 / in : 0;
        if (op == 2) {
            out <== 1 - in * inv;
            in * out === 0;
        } else {
            out <== in * inv;
            in * (1 - out) === 0;
        }
    }
}
