// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title A bounty for an image a digits model classifies as a given digit
 * @notice Example consumer of FlavumRollup. Anyone funds the bounty. A claimant first commits to an input
 * without showing it (`commit`), then, at least one block later, reveals it (`claim`), which requests an
 * inference through the rollup (paying its fee). When the rollup calls back with a proven output whose
 * label is the bounty's digit, the whole bounty goes to the claimant, provided nobody committed to the
 * same input earlier. After the deadline an unclaimed bounty returns to its funder.
 *
 * Why commit–reveal: a claim's input is public (calldata, the rollup's `InferenceRequested` event) before
 * its result is delivered, and anyone may call the rollup's `fulfill`. Without a commitment a copier could
 * claim the same input and have its own request fulfilled first. Here the earliest commitment to an input
 * owns it: a copier can only commit after seeing the input, so its commitment is later and it wins nothing,
 * whichever request is fulfilled first.
 */
interface IDigitBounty {
    /// @notice Why a proven claim was not paid.
    enum RejectReason {
        WrongDigit,
        WrongModel,
        Settled,
        EarlierCommitment
    }

    /// @notice `from` added `amount`; the bounty now holds `total`.
    event BountyFunded(address indexed from, uint256 amount, uint256 total);
    /// @notice Commitment `commitment` was first seen in block `blockNumber`.
    event ClaimCommitted(bytes32 indexed commitment, uint256 blockNumber);
    /// @notice `claimant` revealed input commitment `inputHash` (committed in `commitBlock`) as request `requestId`.
    event ClaimRequested(uint256 indexed requestId, address indexed claimant, uint256 inputHash, uint256 commitBlock);
    /// @notice Request `requestId` of `claimant` was proven with label `label` but not paid, for `reason`.
    event ClaimRejected(uint256 indexed requestId, address indexed claimant, uint8 label, RejectReason reason);
    /// @notice `claimant` won `amount` with request `requestId`.
    event BountyPaid(uint256 indexed requestId, address indexed claimant, uint256 amount);
    /// @notice The funder took back `amount` after the deadline.
    event BountyReclaimed(address indexed funder, uint256 amount);

    /// @notice Only the rollup calls back; `caller` is not it.
    error FlavumNotRollup(address caller);
    /// @notice Only the funder may reclaim; `caller` is not it.
    error FlavumNotFunder(address caller);
    /// @notice The bounty was already paid or reclaimed.
    error FlavumBountySettled();
    /// @notice The bounty is open until `deadline`.
    error FlavumBountyStillOpen(uint64 deadline);
    /// @notice Request `requestId` was not made through `claim`.
    error FlavumUnknownClaim(uint256 requestId);
    /// @notice A bounty digit is 0..9, got `digit`.
    error FlavumInvalidDigit(uint8 digit);
    /// @notice `claimant` never committed to `inputHash` with this salt (expected commitment `commitment`).
    error FlavumNoCommitment(address claimant, uint256 inputHash, bytes32 commitment);
    /// @notice Commitment `commitment` was made in block `commitBlock`; it can be revealed from block `revealFrom` on.
    error FlavumCommitmentTooRecent(bytes32 commitment, uint256 commitBlock, uint256 revealFrom);
    /// @notice `owner` committed to `inputHash` in block `ownerBlock`, before this claim's commitment (block `commitBlock`).
    error FlavumInputClaimedEarlier(uint256 inputHash, address owner, uint256 ownerBlock, uint256 commitBlock);
    /// @notice The zero commitment cannot be recorded.
    error FlavumZeroCommitment();

    /// @notice Adds the value sent to the bounty.
    function fund() external payable;

    /**
     * @notice Records `commitment` = `commitmentFor(claimant, inputHash, salt)` with the current block. A
     * commitment already recorded keeps its earlier block (it binds its claimant, so sending someone else's
     * commitment only confirms it).
     * @param commitment keccak256(abi.encode(claimant, inputHash, salt))
     */
    function commit(bytes32 commitment) external;

    /**
     * @notice Reveals a committed input and requests its inference from the rollup; send at least the rollup's
     * fee. Needs the caller's commitment to (`inputHash`, `salt`) from an earlier block, and no other
     * claimant's revealed commitment to the same input from an earlier or the same block.
     * @param inputHash the input's Poseidon commitment
     * @param input the input, for the sequencer
     * @param salt the secret the commitment was made with
     * @return requestId the rollup's request id
     */
    function claim(uint256 inputHash, bytes calldata input, bytes32 salt) external payable returns (uint256 requestId);

    /// @notice Returns the bounty to the funder once the deadline has passed unclaimed.
    function reclaim() external;

    /**
     * @notice The commitment `claimant` makes for `inputHash` with `salt`.
     * @param claimant who will call `claim`
     * @param inputHash the input's Poseidon commitment
     * @param salt a secret random value
     * @return keccak256(abi.encode(claimant, inputHash, salt))
     */
    function commitmentFor(address claimant, uint256 inputHash, bytes32 salt) external pure returns (bytes32);

    /**
     * @notice The block `commitment` was first recorded in (0 if never).
     * @param commitment the commitment
     * @return the block number
     */
    function commitBlockOf(bytes32 commitment) external view returns (uint256);

    /**
     * @notice Who owns `inputHash`: the claimant with the earliest commitment revealed for it so far.
     * @param inputHash the input's Poseidon commitment
     * @return owner the claimant (zero if none)
     * @return commitBlock the block of its commitment
     */
    function ownerOfInput(uint256 inputHash) external view returns (address owner, uint256 commitBlock);

    /// @notice The rollup the bounty trusts.
    function rollup() external view returns (address);

    /// @notice The digits model.
    function modelId() external view returns (uint256);

    /// @notice The digit an input must be classified as.
    function digit() external view returns (uint8);

    /// @notice Who may reclaim after the deadline.
    function funder() external view returns (address);

    /// @notice When the funder may reclaim.
    function deadline() external view returns (uint64);

    /// @notice Whether the bounty was paid or reclaimed.
    function settled() external view returns (bool);

    /**
     * @notice Who made claim `requestId` (zero once decided, or if unknown).
     * @param requestId the rollup's request id
     * @return the claimant
     */
    function claimantOf(uint256 requestId) external view returns (address);
}
