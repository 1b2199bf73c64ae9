// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title BlobProbe (tests only)
 * @notice Records the EIP-4844 versioned hash of one blob carried by the calling transaction, as the
 * BLOBHASH opcode returns it, so an off-chain test can compare it with the hash it computed from the
 * blob's KZG commitment (0x01 ‖ sha256(commitment)[1:]). This is exactly what a rollup in blob mode
 * binds on chain: the versioned hash, never the blob bytes, which the EVM cannot read.
 * @dev BLOBHASH needs the Cancun EVM (solc `evmVersion` cancun or later) and a chain at Cancun or later.
 */
contract BlobProbe {
    /// @notice The calling transaction carries no blob at `index` (BLOBHASH returned zero).
    /// @param index the blob index that was asked for
    /// @param blobCount how many leading indices did carry a blob (BLOBHASH nonzero), so at most `index`
    error BlobProbeNoBlobAt(uint256 index, uint256 blobCount);

    /// @notice The transaction's blob at `index` has versioned hash `versionedHash`.
    /// @param recorder the transaction's sender
    /// @param index the blob's index in the transaction
    /// @param versionedHash the blob's versioned hash, as BLOBHASH returned it
    event BlobHashRecorded(address indexed recorder, uint256 indexed index, bytes32 versionedHash);

    /// @notice The last versioned hash recorded for each blob index.
    mapping(uint256 index => bytes32 versionedHash) public recorded;

    /**
     * @notice Stores and emits the versioned hash of the calling transaction's blob `index`.
     * @dev Reverts with {BlobProbeNoBlobAt} when the transaction has no blob at `index`, including
     * any transaction that is not of type 3.
     * @param index the blob's index in the calling transaction (0-based)
     */
    function record(uint256 index) external {
        bytes32 versionedHash = blobhash(index);
        if (versionedHash == bytes32(0)) revert BlobProbeNoBlobAt(index, _blobCount(index));
        recorded[index] = versionedHash;
        emit BlobHashRecorded(msg.sender, index, versionedHash);
    }

    /// @dev The number of leading blobs, looking no further than `limit`: blob hashes are dense, so
    /// the first zero ends them.
    function _blobCount(uint256 limit) private view returns (uint256 n) {
        while (n < limit && blobhash(n) != bytes32(0)) ++n;
    }
}
