// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Training proof verifier
 * @notice The function of the Groth16 verifier snarkjs generates for a training circuit (one round of
 * fixed-point SGD on committed data). Its four public inputs are, in this order,
 *
 *     [parentWeightsHash, newWeightsHash, dataHash, metrics]
 *
 * `parentWeightsHash` commits to the weights the round started from, `newWeightsHash` to the weights it
 * produced, `dataHash` to the training data, and `metrics = correct | samples << 32`: `correct` is the
 * number of training samples the parent model classified correctly (the round's metric) and
 * `samples` the number of samples the round trained on (what a FedAvg merge weighs it by). It returns false, rather than reverting, for
 * an invalid proof or a public input outside the scalar field.
 */
interface ITrainingVerifier {
    /// @notice Whether `(pA, pB, pC)` proves the training statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @title FedAvg merge proof verifier for 2 commits
 * @notice Public inputs `[newWeightsHash, h_1, h_2, n_1, n_2]`: the merged weights are the
 * sample-weighted average of the weights committed by `h_i`, weighted by the sample counts `n_i`.
 */
interface IMergeVerifier2 {
    /// @notice Whether `(pA, pB, pC)` proves the 2-commit merge statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @title FedAvg merge proof verifier for 3 commits
 * @notice Public inputs `[newWeightsHash, h_1, h_2, h_3, n_1, n_2, n_3]` (see {IMergeVerifier2}).
 */
interface IMergeVerifier3 {
    /// @notice Whether `(pA, pB, pC)` proves the 3-commit merge statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[7] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @title FedAvg merge proof verifier for 4 commits
 * @notice Public inputs `[newWeightsHash, h_1, ..., h_4, n_1, ..., n_4]` (see {IMergeVerifier2}).
 */
interface IMergeVerifier4 {
    /// @notice Whether `(pA, pB, pC)` proves the 4-commit merge statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[9] calldata pubSignals
    ) external view returns (bool);
}
