pragma circom 2.1.0;

// Test fixture: proves knowledge of two factors of a public product, with the factors bounded by
// Num2Bits so the fixture exercises circomlib includes as well as a plain multiplication.
include "circomlib/circuits/bitify.circom";

template Multiplier(BITS) {
    signal input a;
    signal input b;
    signal output c;

    component ra = Num2Bits(BITS);
    ra.in <== a;
    component rb = Num2Bits(BITS);
    rb.in <== b;
    c <== a * b;
}

component main = Multiplier(16);
