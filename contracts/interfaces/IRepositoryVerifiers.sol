// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Training proof verifier
 * @notice The function of the Groth16 verifier snarkjs generates for a training circuit (K steps of
 * fixed-point SGD on committed data). Its five public inputs are, in this order (the training
 * statement; src/training/statement.ts is its TypeScript home),
 *
 *     [parentWeightsHash, newWeightsHash, dataHash, metrics, binding]
 *
 * `parentWeightsHash` commits to the weights the round started from, `newWeightsHash` to the weights it
 * produced, `dataHash` to the training data (salted: Poseidon(row digest, salt), the salt private),
 * `metrics = correct | samples << 32` with `samples` = n·K the rows trained on (what a FedAvg merge
 * weighs the commit by) and `correct` the rows among them classified correctly before their step, and
 * `binding = keccak256(abi.encode(chainid, repository contract, repoId, author)) mod p`, which the
 * repository computes from `msg.sender`. It returns false, rather than reverting, for an invalid proof
 * or a public input outside the scalar field. (Its signature is the 2-commit merge verifier's: the
 * two are told apart by the key they check against, never by the selector.)
 */
interface ITrainingVerifier {
    /// @notice Whether `(pA, pB, pC)` proves the training statement for `pubSignals`.
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @title Merge proof verifier for 2 commits
 * @notice Public inputs `[newWeightsHash, h_1, h_2, n_1, n_2]`: the merged weights are the repository's
 * aggregation of the weights committed by `h_i`: for FedAvg their average weighted by the sample counts
 * `n_i`; for the coordinate-wise median or trimmed mean the rounded mean of each coordinate's middle
 * values, the counts range-checked but not weighing (a claimed count buys no influence). Merges of
 * k = 2 … 8 commits share this shape with `2k + 1` public inputs,
 * `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2k+1])`; ModelRepository derives the selector
 * from k, so the sizes without an interface here (5 … 8) are called the same way.
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
 * @title Merge proof verifier for 3 commits
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
 * @title Merge proof verifier for 4 commits
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
