pragma circom 2.1.0;

// Test fixture: does not compile (an undeclared signal), to check the compiler's message surfaces.
template Broken() {
    signal input a;
    signal output c;
    c <== a * missing;
}

component main = Broken();
