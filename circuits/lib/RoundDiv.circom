pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RoundDiv(qBits, dBits): out = round(num / den), ties toward +inf, i.e.
// out = floor((2*num + den) / (2*den)), proven as out * 2*den + rem = 2*num + den with
// 0 <= rem < 2*den (two range checks of dBits + 1 bits) and out in [-2^(qBits-1), 2^(qBits-1))
// (range-checked here: without a bound on out, a field inverse of 2*den would give other solutions).
// A den of 0 has no witness. Used by the FedAvg merge: num = sum n_i * w_i, den = sum n_i.
// Preconditions: 0 <= den < 2^dBits (the caller range-checks it); |2*num + den| < 2^252;
// qBits + dBits + 2 <= 252, so no side of the equation wraps around the field.
template RoundDiv(qBits, dBits) {
    signal input num;
    signal input den;
    signal output out;

    assert(qBits + dBits + 2 <= 252);
    var t = 2 * num + den;
    var dd = 2 * den;
    var qq = 0;
    if (dd != 0) {
        // circom compares field elements as signed values in (-p/2, p/2]; floor toward -inf.
        if (t < 0) {
            qq = -((-t + dd - 1) \ dd);
        } else {
            qq = t \ dd;
        }
    }
    out <-- qq;
    signal rem;
    rem <-- t - qq * dd;
    out * dd + rem === t;

    component remLow = Num2Bits(dBits + 1);
    remLow.in <== rem;
    component remHigh = Num2Bits(dBits + 1);
    remHigh.in <== dd - 1 - rem;
    component range = Num2Bits(qBits);
    range.in <== out + 2 ** (qBits - 1);
}
