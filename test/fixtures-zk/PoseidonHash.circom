pragma circom 2.1.0;

// Test fixture: a circomlib include resolved through node_modules, checked against circomlibjs.
include "circomlib/circuits/poseidon.circom";

template PoseidonHash() {
    signal input in[2];
    signal output out;

    component h = Poseidon(2);
    h.inputs <== in;
    out <== h.out;
}

component main = PoseidonHash();
