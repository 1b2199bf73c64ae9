// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/**
 * @title DacAttestation
 * @notice Checks a data availability committee's k-of-n attestation that it holds a batch's trace
 * (the `ipfs` trace store, src/traceStore/dac.ts). Each attestation is an EIP-712 signature over
 *     Availability(uint256 batchId, bytes32 digest)
 * in the domain {name "FlavumDAC", version "1", chainId, verifyingContract} of the contract that
 * calls this library (its `domainSeparator`, e.g. OpenZeppelin EIP712's _domainSeparatorV4()), where
 * `digest` is the sha2-256 digest inside the trace's CID (CIDv1, raw, sha2-256).
 *
 * `signatures` is the 65-byte signatures (r ‖ s ‖ v) concatenated, sorted by recovered signer
 * address strictly ascending: that makes a repeated signer a comparison with the previous one, with
 * no storage and no nested loop over the signatures. Every signature must be valid and by a member of
 * `committee`; at least `threshold` of them are needed. A signature over another batch, digest,
 * chain or contract recovers to some unrelated address and is refused as an unknown signer.
 */
library DacAttestation {
    /// @dev Bytes of one signature: r (32) ‖ s (32) ‖ v (1).
    uint256 internal constant SIGNATURE_BYTES = 65;
    /// @dev EIP-712 type hash of the attested statement.
    bytes32 internal constant AVAILABILITY_TYPEHASH = keccak256("Availability(uint256 batchId,bytes32 digest)");

    /// @notice `signatures` is not a whole number of 65-byte signatures.
    error FlavumDacSignaturesLength(uint256 length);
    /// @notice `threshold` is 0 or larger than the committee.
    error FlavumDacBadThreshold(uint256 threshold, uint256 committeeSize);
    /// @notice Fewer signatures than the threshold.
    error FlavumDacThresholdNotMet(uint256 got, uint256 needed);
    /// @notice Signature `index` is malformed (bad v, high s, or recovers to nobody).
    error FlavumDacInvalidSignature(uint256 index);
    /// @notice A signature recovers to an address outside the committee.
    error FlavumDacUnknownSigner(address signer);
    /// @notice The signer of signature `index` is not above the previous one (unsorted or repeated).
    error FlavumDacSignersNotSorted(uint256 index);

    /// @notice The EIP-712 digest the committee signs for (`batchId`, `digest`).
    function availabilityHash(bytes32 domainSeparator, uint256 batchId, bytes32 digest) internal pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator, keccak256(abi.encode(AVAILABILITY_TYPEHASH, batchId, digest)));
    }

    /**
     * @notice Reverts unless `signatures` holds at least `threshold` valid attestations of
     * (`batchId`, `digest`) by distinct members of `committee`, sorted by signer ascending.
     * @return count The number of attestations (all of them valid).
     */
    function verify(
        bytes32 domainSeparator,
        uint256 batchId,
        bytes32 digest,
        bytes calldata signatures,
        address[] calldata committee,
        uint256 threshold
    ) internal pure returns (uint256 count) {
        if (threshold == 0 || threshold > committee.length) revert FlavumDacBadThreshold(threshold, committee.length);
        if (signatures.length % SIGNATURE_BYTES != 0) revert FlavumDacSignaturesLength(signatures.length);
        count = signatures.length / SIGNATURE_BYTES;
        if (count < threshold) revert FlavumDacThresholdNotMet(count, threshold);

        bytes32 hash = availabilityHash(domainSeparator, batchId, digest);
        address previous; // address(0): every real signer is above it
        for (uint256 i; i < count; ++i) {
            uint256 at = i * SIGNATURE_BYTES;
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signatures[at:at + SIGNATURE_BYTES]);
            if (err != ECDSA.RecoverError.NoError) revert FlavumDacInvalidSignature(i);
            if (!isMember(committee, signer)) revert FlavumDacUnknownSigner(signer);
            if (signer <= previous) revert FlavumDacSignersNotSorted(i);
            previous = signer;
        }
    }

    /// @notice Whether `who` is in `committee` (a linear scan: committees are small).
    function isMember(address[] calldata committee, address who) internal pure returns (bool) {
        for (uint256 j; j < committee.length; ++j) if (committee[j] == who) return true;
        return false;
    }
}
