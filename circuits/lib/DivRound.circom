pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// DivRound(bitsA, bitsB, k, bitsOut): out = round(a * 2^k / b), ties toward +inf, for a signed
// divisor b != 0. Precisely, with sgn = sign(b) and m = |b|:
//   out = floor((2 * a * 2^k * sgn + m) / (2 * m)),
// and out in [-2^(bitsOut-1), 2^(bitsOut-1)) (no witness otherwise; b = 0 has no witness).
// Proof: a sign bit neg (b = m - 2 * neg * m) and m - 1 >= 0 in bitsB - 1 bits (so 1 <= m <=
// 2^(bitsB-1), and neg is unique because m != 0); then out * 2m + r = 2 * a * 2^k * sgn + m with
// 0 <= r < 2m (r and 2m - 1 - r in bitsB bits each) and out range-checked, so the integer
// equation has exactly one solution.
// Cost: 1 (neg boolean) + 1 (neg * m) + (bitsB - 1) + 1 (a * neg) + 1 (the division) + 2 * bitsB
// + bitsOut = 3 * bitsB + bitsOut + 3 constraints (67 for bitsB = bitsOut = 16).
// Preconditions: |a| < 2^(bitsA-1) and b in [-2^(bitsB-1), 2^(bitsB-1)) (the producers'
// range checks); bitsB >= 2; bitsA + k + bitsB + 4 <= 250 and bitsOut + bitsB + 4 <= 250, so no
// side of the equation wraps around the field.
template DivRound(bitsA, bitsB, k, bitsOut) {
    signal input a;
    signal input b;
    signal output out;

    assert(bitsB >= 2);
    assert(bitsOut >= 1);
    assert(bitsA + k + bitsB + 4 <= 250);
    assert(bitsOut + bitsB + 4 <= 250);

    // Witness: circom compares field elements as signed values in (-p/2, p/2].
    signal neg;
    neg <-- b < 0 ? 1 : 0;
    neg * (neg - 1) === 0;
    signal m;
    m <-- b < 0 ? -b : b;
    signal negM <== neg * m;
    b === m - 2 * negM;
    component mPos = Num2Bits(bitsB - 1);
    mPos.in <== m - 1;

    signal negA <== neg * a;
    var num = 2 ** (k + 1) * (a - 2 * negA) + m;
    var den = 2 * m;
    var qq = 0;
    if (den != 0) {
        if (num < 0) {
            qq = -((-num + den - 1) \ den);
        } else {
            qq = num \ den;
        }
    }
    out <-- qq;
    signal r;
    r <-- num - qq * den;
    out * den === num - r;

    component rLow = Num2Bits(bitsB);
    rLow.in <== r;
    component rHigh = Num2Bits(bitsB);
    rHigh.in <== den - 1 - r;
    component range = Num2Bits(bitsOut);
    range.in <== out + 2 ** (bitsOut - 1);
}
