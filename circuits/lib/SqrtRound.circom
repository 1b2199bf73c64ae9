pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// SqrtRound(bitsIn, bitsOut, e): out = round(sqrt(x * 2^e)), the real square root rounded half up,
// for a signed bitsIn input x >= 0 and an integer e of either sign; 0 <= out < 2^(bitsOut-1).
// x < 0, or a root that does not fit, has no witness.
// Proof: with s = sqrt(x * 2^e), z = floor(2s) = floor(sqrt(x * 2^(e+2))) and round(s) =
// floor((z + 1) / 2). The circuit takes out (range-checked to bitsOut - 1 bits) and a bit c, sets
// z = 2 * out + c - 1 (so -1 <= z <= 2^bitsOut - 2), and with E = e + 2 proves
//   E >= 0:  z^2 <= x * 2^E < (z+1)^2,            i.e. lo = x * 2^E - z^2 >= 0, hi = z^2 + 2z - x * 2^E >= 0
//   E < 0:   z^2 * 2^-E <= x < (z+1)^2 * 2^-E,    i.e. lo = x - z^2 * 2^-E >= 0, hi = (z+1)^2 * 2^-E - 1 - x >= 0
// by range checks of lo and hi (all integral, none wraps). Those pin z = floor(2s) (z = -1 would
// need x <= -1 and x >= 1 at once; lo >= 0 forces x >= 0), and z + 1 = 2 * out + c pins out.
// Widths: lo, hi <= 2z < 2^(bitsOut+1) when E >= 0; when E < 0, F = -E, hi < (2z + 1) * 2^F <
// 2^(bitsOut+1+F) and lo <= x < 2^(bitsIn-1), so lo takes min(bitsIn - 1, bitsOut + 1 + F) bits.
// Cost: 1 (z^2) + 1 (c boolean) + (bitsOut - 1) + the lo and hi widths: 3 * bitsOut + 3
// constraints when E >= 0 (51 for bitsOut = 16).
// Preconditions: x in [-2^(bitsIn-1), 2^(bitsIn-1)) (the producer's range check); bitsOut >= 2;
// bitsIn + max(E, 0) <= 250 and 2 * bitsOut + max(-E, 0) + 2 <= 250 (nothing wraps).
template SqrtRound(bitsIn, bitsOut, e) {
    signal input in;
    signal output out;

    assert(bitsIn >= 2);
    assert(bitsOut >= 2);
    var E = e + 2;
    var up = E > 0 ? E : 0;   // x side multiplier 2^up
    var down = E < 0 ? -E : 0; // z side multiplier 2^down
    assert(bitsIn + up <= 250);
    assert(2 * bitsOut + down + 2 <= 250);

    // Witness: the largest z < 2^(bitsOut+1) with z^2 * 2^down <= x * 2^up (0 when x < 0; circom
    // compares field elements as signed values in (-p/2, p/2]); a root that does not fit fails the
    // range checks below.
    var target = in * 2 ** up;
    var zz = 0;
    for (var i = bitsOut; i >= 0; i--) {
        var cand = zz + 2 ** i;
        if (cand * cand * 2 ** down <= target) {
            zz = cand;
        }
    }
    out <-- (zz + 1) \ 2;
    signal c;
    c <-- (zz + 1) % 2;
    c * (c - 1) === 0;
    component outRange = Num2Bits(bitsOut - 1);
    outRange.in <== out;

    var z = 2 * out + c - 1;
    signal sq <== z * z;
    var loBits = bitsOut + 1;
    var hiBits = bitsOut + 1;
    if (down > 0) {
        hiBits = bitsOut + 1 + down;
        loBits = bitsIn - 1 < hiBits ? bitsIn - 1 : hiBits;
    }
    component lo = Num2Bits(loBits);
    lo.in <== in * 2 ** up - sq * 2 ** down;
    component hi = Num2Bits(hiBits);
    hi.in <== (sq + 2 * z + 1) * 2 ** down - 1 - in * 2 ** up;
}
