pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RoundDivConst(m): out = round(num / m), ties toward +inf, for a constant divisor m >= 1, i.e.
// out = floor((2*num + m) / (2*m)) (RoundDiv's rounding, src/training/merge.ts roundDiv).
// Proven as 2*num + m = 2*m*out + rem with 0 <= rem < 2m. The divisor is a constant, so the
// equation is linear (rem is a linear function of num and out) and only the remainder's range costs:
// rem in [0, 2^b) with b = bitlength(2m - 1), plus 2m - 1 - rem in [0, 2^b) unless 2m = 2^b.
// m = 1 is exact (out = num, nothing to prove).
// Cost: 0 for m = 1; b if 2m is a power of two; 2b otherwise (m = 2: 2, 3: 6, 4: 3, 5…7: 8, 8: 4).
// Preconditions: the CALLER range-checks out to some qBits (the merge circuits' PackedHash of the
// result does, qBits = bw): without a bound on out, a remainder off the true one gives a field
// element out = (2*num + m - rem) / 2m that satisfies the linear equation. With out bounded the
// integer equation has exactly one solution provided |2*num + m| + 2m * 2^(qBits-1) < p/2, e.g.
// |num| < 2^(qBits-1) * m (the sum of m values of qBits signed bits) and qBits + log2(m) + 3 < 253.
template RoundDivConst(m) {
    signal input num;
    signal output out;

    assert(m >= 1);
    if (m == 1) {
        out <== num;
    } else {
        var t = 2 * num + m;
        var dd = 2 * m;
        // circom compares field elements as signed values in (-p/2, p/2]; floor toward -inf.
        var qq = 0;
        if (t < 0) {
            qq = -((-t + dd - 1) \ dd);
        } else {
            qq = t \ dd;
        }
        out <-- qq;

        var b = 0;
        while (2 ** b < dd) { b++; }
        signal rem;
        rem <== t - dd * out;
        component remLow = Num2Bits(b);
        remLow.in <== rem;
        if (2 ** b != dd) {
            component remHigh = Num2Bits(b);
            remHigh.in <== dd - 1 - rem;
        }
    }
}
