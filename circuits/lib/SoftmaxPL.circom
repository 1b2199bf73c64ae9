pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "PiecewiseExp.circom";
include "RoundDiv.circom";

// SoftmaxPL(k, bitsIn, bitsE, segBits, scaleOut, bitsOut, dBits, H, T): the fixed-point softmax of
// k logits in[c], signed bitsIn-bit integers at scale 2^-sz (the caller's clamp range-checks them):
//   hot = one-hot of the FIRST index a of the largest logit, arg = a, m = in[a];
//   e_c = m - in[c] in [0, 2^bitsIn) (Num2Bits: every logit <= m), and e_c != 0 for c < a (so ties
//   resolve to the first index: one constraint each, before_c = e_c * w_c with before_c = sum of
//   hot[j > c]);
//   x_c = PiecewiseExp(e_c) = H[hi] * T[lo] (scale 2^(2*se)), or 0 when e_c >= 2^bitsE (a flag from
//   e_c's high bits, needed only when bitsIn > bitsE);
//   S = sum x_c (linear), out[c] = round(x_c * 2^scaleOut / S) ties up (RoundDiv: proven quotient
//   and remainder, out in bitsOut signed bits).
// The integer twin is softmaxInt in src/training/softmax.ts (tables built there).
// Cost per class: 1 (hot boolean) + 1 (pick) + bitsIn (gap) + 1 (first index; none for the last
// class) + 2 (saturation, when bitsIn > bitsE) + PiecewiseExp + RoundDiv (2 * dBits + 3 + bitsOut).
// Preconditions: k >= 2; 1 <= segBits < bitsE <= bitsIn; in[] in bitsIn signed bits; H[0] = T[0] =
// 2^se and every entry in [0, 2^se], so S lies in [2^(2*se), k * 2^(2*se)] and dBits >= bits of
// k * 2^(2*se) (S < 2^dBits); bitsOut >= scaleOut + 2; bitsOut + dBits + 2 <= 252 and
// 2 * se + scaleOut + dBits + 2 <= 250 (RoundDiv's).
template SoftmaxPL(k, bitsIn, bitsE, segBits, scaleOut, bitsOut, dBits, H, T) {
    signal input in[k];
    signal output out[k];
    signal output hot[k];
    signal output arg;

    assert(k >= 2);
    assert(bitsE <= bitsIn);

    // The first index of the maximum (witness); circom compares field elements as signed values.
    var best = 0;
    for (var c = 1; c < k; c++) {
        if (in[c] > in[best]) { best = c; }
    }
    var total = 0;
    var index = 0;
    for (var c = 0; c < k; c++) {
        hot[c] <-- c == best ? 1 : 0;
        hot[c] * (hot[c] - 1) === 0;
        total += hot[c];
        index += c * hot[c];
    }
    total === 1;
    arg <== index;

    signal pick[k];
    var m = 0;
    for (var c = 0; c < k; c++) {
        pick[c] <== hot[c] * in[c];
        m += pick[c];
    }

    component gap[k];
    for (var c = 0; c < k; c++) {
        gap[c] = Num2Bits(bitsIn);
        gap[c].in <== m - in[c];
    }

    // Logits before the chosen index are strictly smaller: before_c = 1 forces e_c * w_c = 1.
    signal nz[k - 1];
    var before = hot[k - 1];
    for (var c = k - 2; c >= 0; c--) {
        nz[c] <-- before != 0 ? 1 / (m - in[c]) : 0;
        before === (m - in[c]) * nz[c];
        before += hot[c];
    }

    var sat = bitsIn > bitsE ? 1 : 0;
    signal keep[k];
    signal inv[k];
    component ex[k];
    var S = 0;
    for (var c = 0; c < k; c++) {
        if (sat == 1) {
            var high = 0;
            for (var b = bitsE; b < bitsIn; b++) {
                high += gap[c].out[b];
            }
            inv[c] <-- high != 0 ? 1 / high : 0;
            keep[c] <== 1 - high * inv[c];
            high * keep[c] === 0;
        } else {
            inv[c] <== 0;
            keep[c] <== 1;
        }
        ex[c] = PiecewiseExp(bitsE, segBits, sat, H, T);
        for (var b = 0; b < bitsE; b++) {
            ex[c].bits[b] <== gap[c].out[b];
        }
        ex[c].keep <== keep[c];
        S += ex[c].out;
    }

    component div[k];
    for (var c = 0; c < k; c++) {
        div[c] = RoundDiv(bitsOut, dBits);
        div[c].num <== ex[c].out * 2 ** scaleOut;
        div[c].den <== S;
        out[c] <== div[c].out;
    }
}
