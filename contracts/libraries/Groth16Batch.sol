// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Groth16Batch
 * @notice Verifies N Groth16 proofs (BN254) of one verifying key with N + 3 pairings instead of 4N,
 * by checking a random linear combination of the N verification equations:
 *
 *     Π_i e(−r_i·A_i, B_i) · e((Σ_i r_i)·α, β) · e(Σ_i r_i·L_i, γ) · e(Σ_i r_i·C_i, δ) = 1
 *
 * where L_i = IC_0 + Σ_j x_ij·IC_j. The public-input term is folded in the scalar field first,
 * Σ_i r_i·L_i = (Σ_i r_i)·IC_0 + Σ_j (Σ_i r_i·x_ij)·IC_j, so it costs one scalar multiplication per
 * IC point whatever N is; each proof adds one pairing and two scalar multiplications (A_i and C_i).
 *
 * The scalars are Fiat–Shamir challenges: seed = keccak256(hashKey(vk) ‖ N ‖ proofs ‖ inputs) over
 * the raw 32-byte words, r_0 = 1 and r_i = uint256(keccak256(seed ‖ i)) mod r for i ≥ 1. A batch with
 * an invalid member passes only if the prover finds proofs whose own hash makes the combination
 * vanish, which has probability about 1/r per hash evaluation. Fixing r_0 = 1 loses nothing (the
 * equation may be divided by r_0) and saves two scalar multiplications.
 *
 * G2 points are in the order the pairing precompile (EIP-197) reads them: x = (x_im, x_re),
 * y = (y_im, y_re). snarkjs's `verification_key.json` and proof JSON store (re, im); its
 * `exportSolidityCallData` (and Flavum's `solidityCalldata`) already swap B, and
 * `verifyingKeyCalldata` (src/zk/batchVerifyingKey.ts) swaps β, γ and δ.
 *
 * Outcomes: a malformed batch (no proofs, a key without IC_0, the wrong number of inputs, an input
 * ≥ r or a coordinate ≥ q) reverts with an error naming it; a well-formed batch returns whether the
 * pairing check holds. A precompile call that fails reverts too, rather than returning false: a
 * failing precompile consumes all the gas it was given, so a point off the curve (or a B outside
 * the G2 subgroup) and a caller's too-low gas limit look the same, and only a revert keeps a gas
 * shortage from ever being taken for an invalid proof.
 */
library Groth16Batch {
    /// @dev Order of the BN254 groups (the scalar field): public inputs and challenges live here.
    uint256 internal constant SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev The BN254 base field: every point coordinate must be below it.
    uint256 internal constant BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    /// @dev Precompiles of EIP-196 (G1 addition, G1 scalar multiplication) and EIP-197 (pairing check).
    uint256 private constant EC_ADD = 0x06;
    uint256 private constant EC_MUL = 0x07;
    uint256 private constant EC_PAIRING = 0x08;

    /// @dev Words and bytes of one (G1, G2) pair in the pairing precompile's input.
    uint256 private constant PAIR_WORDS = 6;
    uint256 private constant PAIR_BYTES = 0xc0;
    /// @dev ABI bytes of one Proof: eight words, no head, because Proof is a static type.
    uint256 private constant PROOF_BYTES = 0x100;

    /**
     * @notice A Groth16 verifying key. G1 points are (x, y); G2 points are [[x_im, x_re], [y_im, y_re]].
     * `ic` holds IC_0 … IC_m for m public inputs.
     */
    struct VerifyingKey {
        uint256[2] alpha;
        uint256[2][2] beta;
        uint256[2][2] gamma;
        uint256[2][2] delta;
        uint256[2][] ic;
    }

    /// @notice A Groth16 proof as snarkjs's Solidity calldata gives it (B already in precompile order).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// @dev The scalar sums one pass over the statements accumulates (a struct: the stack cannot hold them all).
    struct Fold {
        // Σ_i r_i·x_ij for each input j, reduced mod r so one scalar multiplication per IC point suffices.
        uint256[] inputs;
        uint256 sumR;
    }

    /// @notice The batch holds no proof.
    error FlavumGroth16EmptyBatch();
    /// @notice The verifying key has no IC_0, so it cannot describe any statement.
    error FlavumGroth16KeyWithoutIC();
    /// @notice `publicInputs` has `actual` values where `proofs.length × (ic.length − 1)` = `expected`.
    error FlavumGroth16InputCount(uint256 expected, uint256 actual);
    /// @notice `publicInputs[index]` = `value` is not below the scalar field modulus.
    error FlavumGroth16InputNotInField(uint256 index, uint256 value);
    /// @notice A coordinate (`value`) of proof `proofIndex` is not below the base field modulus.
    error FlavumGroth16CoordinateNotInField(uint256 proofIndex, uint256 value);
    /// @notice The call to `precompile` failed: a point is not on the curve or in its subgroup, or gas ran out.
    error FlavumGroth16PrecompileFailed(address precompile);

    /**
     * @notice Whether every proof in `proofs` is valid for `vk` and its public inputs.
     * @param vk The verifying key all proofs share.
     * @param proofs The proofs, in the order of their statements.
     * @param publicInputs The statements, flat: proof i's inputs are
     * `publicInputs[i·m : (i+1)·m]` with m = `vk.ic.length − 1`.
     * @return True if the batch equation holds, which, except with negligible probability, means every
     * proof is valid for its own inputs.
     */
    function verifyBatch(
        VerifyingKey memory vk,
        Proof[] calldata proofs,
        uint256[] calldata publicInputs
    ) internal view returns (bool) {
        uint256 n = proofs.length;
        if (n == 0) revert FlavumGroth16EmptyBatch();
        if (vk.ic.length == 0) revert FlavumGroth16KeyWithoutIC();
        uint256 m = vk.ic.length - 1;
        if (publicInputs.length != n * m) revert FlavumGroth16InputCount(n * m, publicInputs.length);

        // The pairing input: N pairs (−r_i·A_i, B_i), then (Σr·α, β), (Σr·L, γ), (Σr·C, δ). Every
        // G1 sum is accumulated in place, so the buffer is the only memory the check needs.
        uint256[] memory pairs = new uint256[]((n + 3) * PAIR_WORDS);
        uint256 keyPairs;
        assembly ("memory-safe") {
            keyPairs := add(add(pairs, 0x20), mul(n, PAIR_BYTES))
        }
        Fold memory f = _foldBatch(_seed(hashKey(vk), proofs, publicInputs), proofs, publicInputs, m, keyPairs);
        _foldKey(vk, f, keyPairs);
        return _pairing(pairs);
    }

    /**
     * @notice The identity of a verifying key that the batch challenges commit to: keccak256 of
     * `abi.encode(vk)`, so a registry can pin a key by this hash and check a supplied key against it.
     */
    function hashKey(VerifyingKey memory vk) internal pure returns (bytes32) {
        return keccak256(abi.encode(vk));
    }

    /// @dev Hashes the calldata words directly: ABI re-encoding the proofs would cost ~50 gas a word.
    function _seed(bytes32 keyHash, Proof[] calldata proofs, uint256[] calldata publicInputs) private pure returns (bytes32 seed) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, keyHash)
            mstore(add(p, 0x20), proofs.length)
            let proofBytes := mul(proofs.length, PROOF_BYTES)
            calldatacopy(add(p, 0x40), proofs.offset, proofBytes)
            let inputBytes := mul(publicInputs.length, 0x20)
            calldatacopy(add(add(p, 0x40), proofBytes), publicInputs.offset, inputBytes)
            seed := keccak256(p, add(0x40, add(proofBytes, inputBytes)))
        }
    }

    /// @dev r_i for i ≥ 1. Reducing a 256-bit hash mod r is biased, but no value has probability above
    /// 6/2^256 < 1.2/r, and that bound is all the soundness argument needs.
    function _challenge(bytes32 seed, uint256 i) private pure returns (uint256 ri) {
        assembly ("memory-safe") {
            mstore(0x00, seed)
            mstore(0x20, i)
            ri := mod(keccak256(0x00, 0x40), SCALAR_FIELD)
        }
    }

    /// @dev One pass over the statements: the r_i-weighted sums of the inputs and of r_i (Fold), and
    /// the proofs' pairs written into the pairing input, with Σ r_i·C_i in the G1 slot of the δ pair.
    function _foldBatch(
        bytes32 seed,
        Proof[] calldata proofs,
        uint256[] calldata publicInputs,
        uint256 m,
        uint256 keyPairs
    ) private view returns (Fold memory f) {
        f.inputs = new uint256[](m);
        uint256 n = proofs.length;
        uint256 sumC = keyPairs + 2 * PAIR_BYTES;
        uint256 pairsStart = keyPairs - n * PAIR_BYTES;
        for (uint256 i; i < n; ++i) {
            uint256 ri = i == 0 ? 1 : _challenge(seed, i);
            f.sumR = addmod(f.sumR, ri, SCALAR_FIELD);
            _foldInputs(f.inputs, publicInputs, i * m, ri);
            _foldProof(pairsStart + i * PAIR_BYTES, sumC, proofs[i], i, ri);
        }
    }

    /// @dev folded[j] += r_i·x_ij mod r for proof i's inputs, which start at `start`.
    function _foldInputs(uint256[] memory folded, uint256[] calldata publicInputs, uint256 start, uint256 ri) private pure {
        bool inField = true;
        assembly ("memory-safe") {
            // The optimizer keeps 32-byte constants in code and re-reads them (CODECOPY) at each use.
            let r := SCALAR_FIELD
            let x := add(publicInputs.offset, mul(start, 0x20))
            let acc := add(folded, 0x20)
            let end := add(acc, mul(mload(folded), 0x20))
            for {} lt(acc, end) {
                acc := add(acc, 0x20)
                x := add(x, 0x20)
            } {
                let v := calldataload(x)
                inField := and(inField, lt(v, r))
                mstore(acc, addmod(mload(acc), mulmod(ri, v, r), r))
            }
        }
        // An input ≥ r would be reduced by mulmod, letting x and x + r pass for the same statement.
        if (!inField) _revertInput(publicInputs, start, folded.length);
    }

    /// @dev Writes (−r_i·A_i, B_i) at `pair` and adds r_i·C_i to the point at `sumC`.
    function _foldProof(uint256 pair, uint256 sumC, Proof calldata p, uint256 i, uint256 ri) private view {
        bool inField;
        uint256 ay;
        assembly ("memory-safe") {
            // Proof's ABI layout is eight words: a.x, a.y, b[0][0], b[0][1], b[1][0], b[1][1], c.x, c.y.
            let q := BASE_FIELD
            inField := and(
                and(and(lt(calldataload(p), q), lt(calldataload(add(p, 0x20)), q)), and(lt(calldataload(add(p, 0x40)), q), lt(calldataload(add(p, 0x60)), q))),
                and(and(lt(calldataload(add(p, 0x80)), q), lt(calldataload(add(p, 0xa0)), q)), and(lt(calldataload(add(p, 0xc0)), q), lt(calldataload(add(p, 0xe0)), q)))
            )
            ay := calldataload(add(p, 0x20))
            calldatacopy(add(pair, 0x40), add(p, 0x40), 0x80)
        }
        // The precompiles would refuse these too, but q − y below must not wrap, and the error names the proof.
        if (!inField) _revertCoordinate(p, i);
        // −(r·A) = r·(−A), and negating is free: (x, q − y), with the point at infinity (0, 0) kept as is.
        _mulInto(pair, p.a[0], ay == 0 ? 0 : BASE_FIELD - ay, ri);
        _mulAddInto(sumC, p.c[0], p.c[1], ri);
    }

    /// @dev Fills the three key pairs at `at`: (Σr·α, β), (Σr·IC_0 + Σ_j folded_j·IC_j, γ) and δ's G2.
    function _foldKey(VerifyingKey memory vk, Fold memory f, uint256 at) private view {
        _mulInto(at, vk.alpha[0], vk.alpha[1], f.sumR);
        _putG2(at, vk.beta);

        uint256 l = at + PAIR_BYTES;
        _mulInto(l, vk.ic[0][0], vk.ic[0][1], f.sumR);
        uint256 m = f.inputs.length;
        for (uint256 j; j < m; ++j) {
            _mulAddInto(l, vk.ic[j + 1][0], vk.ic[j + 1][1], f.inputs[j]);
        }
        _putG2(l, vk.gamma);

        _putG2(at + 2 * PAIR_BYTES, vk.delta);
    }

    function _putG2(uint256 pair, uint256[2][2] memory g2) private pure {
        (uint256 x0, uint256 x1, uint256 y0, uint256 y1) = (g2[0][0], g2[0][1], g2[1][0], g2[1][1]);
        assembly ("memory-safe") {
            mstore(add(pair, 0x40), x0)
            mstore(add(pair, 0x60), x1)
            mstore(add(pair, 0x80), y0)
            mstore(add(pair, 0xa0), y1)
        }
    }

    /// @dev s·(x, y) stored at memory address `dst`. Scalars 0 and 1 skip the precompile: r_0 = 1 makes
    /// them common. Skipping it also skips its curve check, which is safe because every point copied
    /// unchecked (A_0, C_0, IC_0 when N = 1) still reaches ecAdd or the pairing, and both check their inputs.
    function _mulInto(uint256 dst, uint256 x, uint256 y, uint256 s) private view {
        bool ok = true;
        assembly ("memory-safe") {
            switch s
            case 0 {
                mstore(dst, 0)
                mstore(add(dst, 0x20), 0)
            }
            case 1 {
                mstore(dst, x)
                mstore(add(dst, 0x20), y)
            }
            default {
                // Scratch above the free memory pointer, not allocated: nothing runs before it is consumed.
                let p := mload(0x40)
                mstore(p, x)
                mstore(add(p, 0x20), y)
                mstore(add(p, 0x40), s)
                ok := staticcall(gas(), EC_MUL, p, 0x60, dst, 0x40)
            }
        }
        if (!ok) revert FlavumGroth16PrecompileFailed(address(uint160(EC_MUL)));
    }

    /// @dev The point at memory address `acc` += s·(x, y); an accumulator still at infinity (0, 0) takes the product as is.
    function _mulAddInto(uint256 acc, uint256 x, uint256 y, uint256 s) private view {
        if (s == 0) return;
        uint256 failed;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x)
            mstore(add(p, 0x20), y)
            if iszero(eq(s, 1)) {
                mstore(add(p, 0x40), s)
                if iszero(staticcall(gas(), EC_MUL, p, 0x60, p, 0x40)) {
                    failed := EC_MUL
                }
            }
            if iszero(failed) {
                let ax := mload(acc)
                let ay := mload(add(acc, 0x20))
                switch or(ax, ay)
                case 0 {
                    mstore(acc, mload(p))
                    mstore(add(acc, 0x20), mload(add(p, 0x20)))
                }
                default {
                    mstore(add(p, 0x40), ax)
                    mstore(add(p, 0x60), ay)
                    if iszero(staticcall(gas(), EC_ADD, p, 0x80, acc, 0x40)) {
                        failed := EC_ADD
                    }
                }
            }
        }
        if (failed != 0) revert FlavumGroth16PrecompileFailed(address(uint160(failed)));
    }

    function _pairing(uint256[] memory pairs) private view returns (bool) {
        bool ok;
        uint256 product;
        assembly ("memory-safe") {
            ok := staticcall(gas(), EC_PAIRING, add(pairs, 0x20), mul(mload(pairs), 0x20), 0x00, 0x20)
            product := mload(0x00)
        }
        if (!ok) revert FlavumGroth16PrecompileFailed(address(uint160(EC_PAIRING)));
        return product == 1;
    }

    /// @dev Cold path of _foldInputs: names the first input ≥ r.
    function _revertInput(uint256[] calldata publicInputs, uint256 start, uint256 m) private pure {
        for (uint256 j; j < m; ++j) {
            uint256 v = publicInputs[start + j];
            if (v >= SCALAR_FIELD) revert FlavumGroth16InputNotInField(start + j, v);
        }
    }

    /// @dev Cold path of _foldProof: names the first coordinate ≥ q of proof i.
    function _revertCoordinate(Proof calldata p, uint256 i) private pure {
        uint256[8] memory words;
        assembly ("memory-safe") {
            calldatacopy(words, p, PROOF_BYTES)
        }
        for (uint256 k; k < 8; ++k) {
            if (words[k] >= BASE_FIELD) revert FlavumGroth16CoordinateNotInField(i, words[k]);
        }
    }
}
