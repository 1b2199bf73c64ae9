// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Weights-committed batch proof verifier
 * @notice The function of the Groth16 verifier snarkjs generates for the batch circuit of a published
 * model (`IModelRegistry.publish`): the six public inputs of `IGroth16Verifier`, then the model's
 * weightsHash, `[oldRoot, newRoot, batchRoot, meta, r, h, weightsHash]`. The circuit takes the weights as
 * a private input and proves they hash to weightsHash, so a proof made with any other weights fails. It
 * returns false, rather than reverting, for an invalid proof or a public input outside the scalar field.
 */
interface ICommittedBatchVerifier {
    /// @notice Whether `(pA, pB, pC)` proves the committed batch circuit's statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[7] calldata pubSignals
    ) external view returns (bool);
}
