// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ITrainingVerifier} from "../interfaces/IRepositoryVerifiers.sol";

/**
 * @title MockStatementVerifier (tests only)
 * @notice Stands in for a generated training verifier where a test needs many proofs at once (a
 * training commit's chain): a "proof" is a tag in its first coordinate `a[0]`, and it verifies for
 * exactly the public-input vector registered under that tag (`register`) — as a real Groth16 proof
 * verifies for its own statement only. Moved to another position of a chain, or pushed by another
 * account, a proof meets another statement and fails. Unregistered tags fail; `setRevert` makes every
 * call revert.
 */
contract MockStatementVerifier is ITrainingVerifier {
    /// @notice The mock reverted as configured.
    error MockVerifierReverted();

    /// @notice Proof tag `tag` now verifies for the public inputs hashing to `statement`.
    event StatementRegistered(uint256 indexed tag, bytes32 statement);
    /// @notice Every call reverts (`reverts`) or answers.
    event RevertConfigured(bool reverts);

    mapping(uint256 tag => bytes32 statement) private _statements;
    bool private _reverts;

    /// @notice Makes the proof tagged `tag` valid for exactly `pub`.
    function register(uint256 tag, uint256[5] calldata pub) external {
        bytes32 statement = keccak256(abi.encode(pub));
        _statements[tag] = statement;
        emit StatementRegistered(tag, statement);
    }

    /// @notice Revert on every call instead of answering.
    function setRevert(bool reverts) external {
        _reverts = reverts;
        emit RevertConfigured(reverts);
    }

    /// @inheritdoc ITrainingVerifier
    function verifyProof(uint256[2] calldata pA, uint256[2][2] calldata, uint256[2] calldata, uint256[5] calldata pub)
        external
        view
        returns (bool)
    {
        if (_reverts) revert MockVerifierReverted();
        bytes32 statement = _statements[pA[0]];
        return statement != bytes32(0) && statement == keccak256(abi.encode(pub));
    }
}
