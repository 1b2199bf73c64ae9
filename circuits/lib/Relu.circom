pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// Relu(bits): out = max(in, 0) for in in [-2^(bits-1), 2^(bits-1)); the top bit of in + 2^(bits-1)
// is the sign. An `in` outside that range has no witness.
template Relu(bits) {
    signal input in;
    signal output out;

    component split = Num2Bits(bits);
    split.in <== in + 2 ** (bits - 1);
    out <== in * split.out[bits - 1];
}
