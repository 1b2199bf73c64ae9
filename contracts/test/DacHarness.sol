// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {DacAttestation} from "../libraries/DacAttestation.sol";

/**
 * @title DacHarness (tests only)
 * @notice Exposes DacAttestation under an OpenZeppelin EIP712 domain ("FlavumDAC", "1"): the harness
 * stands where the rollup would, as the attestation's verifyingContract.
 */
contract DacHarness is EIP712 {
    constructor() EIP712("FlavumDAC", "1") {}

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function availabilityTypehash() external pure returns (bytes32) {
        return DacAttestation.AVAILABILITY_TYPEHASH;
    }

    function availabilityHash(uint256 batchId, bytes32 digest) external view returns (bytes32) {
        return DacAttestation.availabilityHash(_domainSeparatorV4(), batchId, digest);
    }

    function verify(
        uint256 batchId,
        bytes32 digest,
        bytes calldata signatures,
        address[] calldata committee,
        uint256 threshold
    ) external view returns (uint256) {
        return DacAttestation.verify(_domainSeparatorV4(), batchId, digest, signatures, committee, threshold);
    }

    /// @notice Gas the library call itself takes (no transaction, calldata or dispatch costs).
    function verifyGas(
        uint256 batchId,
        bytes32 digest,
        bytes calldata signatures,
        address[] calldata committee,
        uint256 threshold
    ) external view returns (uint256 used) {
        bytes32 separator = _domainSeparatorV4();
        uint256 before = gasleft();
        DacAttestation.verify(separator, batchId, digest, signatures, committee, threshold);
        used = before - gasleft();
    }
}
