// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title A bounty for an image a digits model classifies as a given digit
 * @notice Example consumer of FlavumRollup. Anyone funds the bounty; a claimant requests an inference
 * on their input through `claim` (paying the rollup's fee); when the rollup calls back with a proven
 * output whose label is the bounty's digit, the whole bounty goes to that claimant. After the deadline
 * an unclaimed bounty returns to its funder.
 */
interface IDigitBounty {
    /// @notice `from` added `amount`; the bounty now holds `total`.
    event BountyFunded(address indexed from, uint256 amount, uint256 total);
    /// @notice `claimant` asked for request `requestId` on input commitment `inputHash`.
    event ClaimRequested(uint256 indexed requestId, address indexed claimant, uint256 inputHash);
    /// @notice Request `requestId` was labelled `label`, not the bounty's digit (or the bounty was settled).
    event ClaimRejected(uint256 indexed requestId, address indexed claimant, uint8 label);
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

    /// @notice Adds the value sent to the bounty.
    function fund() external payable;

    /**
     * @notice Requests an inference of the bounty's model on `input`; send at least the rollup's fee.
     * @param inputHash the input's Poseidon commitment
     * @param input the input, for the sequencer
     * @return requestId the rollup's request id
     */
    function claim(uint256 inputHash, bytes calldata input) external payable returns (uint256 requestId);

    /// @notice Returns the bounty to the funder once the deadline has passed unclaimed.
    function reclaim() external;

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
