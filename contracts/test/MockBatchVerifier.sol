// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";

/**
 * @title MockBatchVerifier (tests only)
 * @notice Stands in for a generated batch verifier. The rollup calls verifiers with STATICCALL, so the
 * mock cannot write what it was given to storage; instead it
 * - accepts or rejects everything (`setAccept`),
 * - or accepts exactly one statement (`expectInputs`), like a real proof bound to its public inputs,
 * - or reports the public inputs it was given by reverting with `MockVerifierCalled(pubSignals)`
 *   (`setReveal`), which a test decodes to check the rollup's packing.
 */
contract MockBatchVerifier is IGroth16Verifier {
    /// @notice The public inputs the verifier was called with (reveal mode).
    error MockVerifierCalled(uint256[6] pubSignals);

    /// @notice The mode changed.
    event MockConfigured(bool accept, bool reveal, bool hasExpected);

    bool private _accept = true;
    bool private _reveal;
    bool private _hasExpected;
    uint256[6] private _expected;

    /// @notice Accept (true) or reject (false) every proof; clears any expected inputs.
    function setAccept(bool accept) external {
        _accept = accept;
        _hasExpected = false;
        emit MockConfigured(_accept, _reveal, _hasExpected);
    }

    /// @notice Revert with the given public inputs instead of answering.
    function setReveal(bool reveal) external {
        _reveal = reveal;
        emit MockConfigured(_accept, _reveal, _hasExpected);
    }

    /// @notice Accept only these public inputs (any proof points).
    function expectInputs(uint256[6] calldata expected) external {
        _expected = expected;
        _hasExpected = true;
        emit MockConfigured(_accept, _reveal, _hasExpected);
    }

    /// @inheritdoc IGroth16Verifier
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[6] calldata pubSignals)
        external
        view
        returns (bool)
    {
        if (_reveal) revert MockVerifierCalled(pubSignals);
        if (!_hasExpected) return _accept;
        for (uint256 i; i < 6; ++i) {
            if (pubSignals[i] != _expected[i]) return false;
        }
        return true;
    }
}
