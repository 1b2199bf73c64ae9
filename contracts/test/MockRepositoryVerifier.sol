// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    ITrainingVerifier,
    IMergeVerifier2,
    IMergeVerifier3,
    IMergeVerifier4
} from "../interfaces/IRepositoryVerifiers.sol";

/**
 * @title MockRepositoryVerifier (tests only)
 * @notice Stands in for a generated training or merge verifier: it answers `verifyProof` for 5 (training,
 * or a 2-commit merge), 7, 9 and 11 public inputs (merges of 3, 4 and 5). It accepts or rejects everything (`setAccept`), or accepts
 * exactly one public-input vector (`expectInputs`), like a real proof bound to its statement, or reverts
 * (`setRevert`).
 */
contract MockRepositoryVerifier is ITrainingVerifier, IMergeVerifier2, IMergeVerifier3, IMergeVerifier4 {
    /// @notice The mock reverted as configured.
    error MockVerifierReverted();

    /// @notice The mode changed.
    event MockConfigured(bool accept, bool reverts, uint256 expectedLength);

    bool private _accept = true;
    bool private _reverts;
    bool private _hasExpected;
    uint256[] private _expected;

    /// @notice Accept (true) or reject (false) every proof; clears any expected inputs.
    function setAccept(bool accept) external {
        _accept = accept;
        _hasExpected = false;
        delete _expected;
        emit MockConfigured(_accept, _reverts, 0);
    }

    /// @notice Revert on every call instead of answering.
    function setRevert(bool reverts) external {
        _reverts = reverts;
        emit MockConfigured(_accept, _reverts, _expected.length);
    }

    /// @notice Accept only this public-input vector (any proof points).
    function expectInputs(uint256[] calldata expected) external {
        _expected = expected;
        _hasExpected = true;
        emit MockConfigured(_accept, _reverts, expected.length);
    }

    /// @notice The training and 2-commit merge verifiers share this signature.
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[5] calldata pub)
        external
        view
        override(ITrainingVerifier, IMergeVerifier2)
        returns (bool)
    {
        uint256[] memory p = new uint256[](5);
        for (uint256 i; i < 5; ++i) p[i] = pub[i];
        return _check(p);
    }

    /// @inheritdoc IMergeVerifier3
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[7] calldata pub)
        external
        view
        returns (bool)
    {
        uint256[] memory p = new uint256[](7);
        for (uint256 i; i < 7; ++i) p[i] = pub[i];
        return _check(p);
    }

    /// @inheritdoc IMergeVerifier4
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[9] calldata pub)
        external
        view
        returns (bool)
    {
        uint256[] memory p = new uint256[](9);
        for (uint256 i; i < 9; ++i) p[i] = pub[i];
        return _check(p);
    }

    /// @dev No interface declares the 5-commit merge: ModelRepository derives its selector from k.
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[11] calldata pub)
        external
        view
        returns (bool)
    {
        uint256[] memory p = new uint256[](11);
        for (uint256 i; i < 11; ++i) p[i] = pub[i];
        return _check(p);
    }

    function _check(uint256[] memory pub) private view returns (bool) {
        if (_reverts) revert MockVerifierReverted();
        if (!_hasExpected) return _accept;
        if (pub.length != _expected.length) return false;
        for (uint256 i; i < pub.length; ++i) {
            if (pub[i] != _expected[i]) return false;
        }
        return true;
    }
}
