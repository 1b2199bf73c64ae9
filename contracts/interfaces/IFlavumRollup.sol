// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum rollup: batch settlement
 * @notice A sequencer posts batches of proven inferences. Each batch appends its trace leaves to a
 * depth-20 Poseidon tree as one aligned subtree of `batchSize` leaves and is accepted only with a
 * Groth16 proof, checked by the model's verifier for that batch size, of the five public inputs
 *
 *     [oldRoot, newRoot, batchRoot, ctx, meta]
 *     ctx  = uint160(rollup) | chainId << 160
 *     meta = modelId | batchNumber << 64 | firstLeaf << 128 | count << 168
 *
 * (mirrored from `src/rollup/layout.ts`). `oldRoot` is the rollup's current root, `batchNumber` the new
 * batch's id, `firstLeaf` the next free leaf rounded up to a multiple of `batchSize`, so a proof cannot
 * be replayed on another chain, rollup, slot or state.
 *
 * The trace of a batch travels in `submitBatch`'s calldata for data availability and is not parsed on
 * chain: `count` entries, each `abi.encodePacked(uint64 requestId, uint256 inputHash, uint256 outputWord)`
 * (72 bytes), in leaf order. Leaf i of the batch is Poseidon(modelId, requestId, inputHash, outputWord);
 * the `batchSize - count` padding leaves are 0.
 */
interface IFlavumRollup {
    /// @notice Batch `batchId` of model `modelId` moved the state root from `oldRoot` to `newRoot`.
    event BatchSubmitted(
        uint256 indexed batchId,
        uint256 indexed modelId,
        uint256 firstLeaf,
        uint256 count,
        uint256 batchSize,
        uint256 oldRoot,
        uint256 newRoot,
        uint256 batchRoot
    );
    /// @notice The sequencer role moved from `previous` to `next`.
    event SequencerRotated(address indexed previous, address indexed next);

    /// @notice A batch must hold 1..`batchSize` inferences, got `count`.
    error FlavumInvalidCount(uint16 count, uint16 batchSize);
    /// @notice A model id must fit 64 bits, got `modelId`.
    error FlavumModelIdTooLarge(uint256 modelId);
    /// @notice A batch of `batchSize` leaves at `firstLeaf` does not fit the 2^20-leaf trace tree.
    error FlavumTreeFull(uint256 firstLeaf, uint16 batchSize);
    /// @notice Verifier `verifier` rejected the proof of batch `batchId` of model `modelId` for the current
    /// root, chain, rollup, batch number and first leaf.
    error FlavumInvalidBatchProof(uint256 modelId, uint256 batchId, address verifier);
    /// @notice The chain id `chainId` does not fit the 64 bits the proof's context reserves for it.
    error FlavumChainIdTooLarge(uint256 chainId);
    /// @notice `account` does not hold the sequencer role.
    error FlavumNotSequencer(address account);
    /// @notice A zero address was given for `what`.
    error FlavumZeroAddress(string what);

    /**
     * @notice Settles a proven batch. Only the sequencer.
     * @param modelId the model every inference of the batch ran
     * @param batchSize the batch circuit's size (selects the model's verifier)
     * @param count the number of real inferences, 1..batchSize
     * @param newRoot the trace tree's root after appending the batch
     * @param batchRoot the root of the batch's subtree of `batchSize` leaves
     * @param a the proof's A point
     * @param b the proof's B point
     * @param c the proof's C point
     * @param trace the batch's entries, `abi.encodePacked(uint64 requestId, uint256 inputHash,
     * uint256 outputWord)` each; kept in calldata only, not read
     */
    function submitBatch(
        uint256 modelId,
        uint16 batchSize,
        uint16 count,
        uint256 newRoot,
        uint256 batchRoot,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        bytes calldata trace
    ) external;

    /**
     * @notice Moves the sequencer role from `previous` to `next`. Only the admin.
     * @param previous a current sequencer
     * @param next the new sequencer
     */
    function rotateSequencer(address previous, address next) external;

    /// @notice The trace tree's current root.
    function stateRoot() external view returns (uint256);

    /// @notice The first leaf after the last batch (before alignment of the next one).
    function nextLeaf() external view returns (uint64);

    /// @notice The number of batches settled; the next batch's id.
    function batchCount() external view returns (uint64);

    /**
     * @notice The subtree root of batch `batchId` (0 for a batch not yet settled).
     * @param batchId the batch
     * @return the batch root
     */
    function batchRoot(uint256 batchId) external view returns (uint256);

    /// @notice The block the rollup was deployed in: where its event history starts.
    function deployBlock() external view returns (uint64);

    /// @notice The model registry batches' verifiers come from.
    function registry() external view returns (address);

    /// @notice The Poseidon hasher of two inputs (tree nodes).
    function poseidon2() external view returns (address);

    /// @notice The Poseidon hasher of four inputs (tree leaves).
    function poseidon4() external view returns (address);
}
