pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// SgdUpdate(shift): out = w - round(g / 2^shift), rounded half up: with q = floor((g + 2^(shift-1)) / 2^shift),
//   q * 2^shift + r = g + 2^(shift-1),  0 <= r < 2^shift,  out = w - q.
// Only the remainder is range-checked here (shift constraints; 0 for shift = 0, where out = w - g).
// The quotient's range comes from the caller, who range-checks both w and out to b signed bits (the
// training circuits do: PackedHash of the parent and the new weights, Num2Bits between steps): then
// q = w - out lies in (-2^b, 2^b), and q * 2^shift + r and g + 2^(shift-1) are integers below 2^252
// in magnitude that agree modulo p, hence equal, which leaves one (q, r). A RescaleAct would spend
// b + 1 more constraints per parameter proving a range the hashes prove anyway.
// Preconditions: the caller range-checks w and out to b bits with b + shift + 2 <= 252; |g| < 2^251
// (its producers' bounds: the training plan checks every intermediate stays below 2^240).
template SgdUpdate(shift) {
    signal input w;
    signal input g;
    signal output out;

    assert(shift >= 0);
    if (shift == 0) {
        out <== w - g;
    } else {
        var t = g + 2 ** (shift - 1);
        var d = 2 ** shift;
        // circom compares field elements as signed values in (-p/2, p/2]; floor toward -inf.
        var qq = 0;
        if (t < 0) {
            qq = -((-t + d - 1) \ d);
        } else {
            qq = t \ d;
        }
        signal q;
        q <-- qq;
        signal r;
        r <-- t - qq * d;
        component rBits = Num2Bits(shift);
        rBits.in <== r;
        q * d + r === t;
        out <== w - q;
    }
}
