// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Batch proof verifier
 * @notice The function of the Groth16 verifier snarkjs generates for a batch circuit with six public
 * inputs `[oldRoot, newRoot, batchRoot, meta, r, h]` (see `src/protocol/batch.ts`). It returns false,
 * rather than reverting, for an invalid proof or a public input outside the scalar field.
 */
interface IGroth16Verifier {
    /// @notice Whether `(pA, pB, pC)` proves the batch circuit's statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[6] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @title State proof verifier
 * @notice The snarkjs verifier of the rollup's state circuit: seven public inputs
 * `[oldRoot, newRoot, exitRoot, meta, opsCommit, r, h]` (see `src/protocol/stateBatch.ts`).
 */
interface IStateVerifier {
    /// @notice Whether `(pA, pB, pC)` proves the state circuit's statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[7] calldata pubSignals
    ) external view returns (bool);
}
