// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICommittedBatchVerifier} from "../interfaces/ICommittedBatchVerifier.sol";

/**
 * @title MockCommittedBatchVerifier (tests only)
 * @notice Stands in for the generated verifier of a weights-committed batch circuit: it accepts any proof
 * points iff the seventh public input is the weights hash it was built for, as a real circuit proves its
 * private weights hash to exactly that value. `expectInputs` further binds it to one six-input batch
 * statement, like a real proof, so a test can check what the rollup puts in the other six.
 */
contract MockCommittedBatchVerifier is ICommittedBatchVerifier {
    /// @notice The verifier now also requires the first six public inputs `expected`.
    event MockConfigured(uint256[6] expected);

    uint256 private immutable _weightsHash;
    bool private _hasExpected;
    uint256[6] private _expected;

    /// @param weightsHash_ the only seventh public input accepted
    constructor(uint256 weightsHash_) {
        _weightsHash = weightsHash_;
    }

    /// @notice Accept only these first six public inputs (and the constructor's weights hash).
    function expectInputs(uint256[6] calldata expected) external {
        _expected = expected;
        _hasExpected = true;
        emit MockConfigured(expected);
    }

    /// @inheritdoc ICommittedBatchVerifier
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[7] calldata pubSignals)
        external
        view
        returns (bool)
    {
        if (pubSignals[6] != _weightsHash) return false;
        if (!_hasExpected) return true;
        for (uint256 i; i < 6; ++i) {
            if (pubSignals[i] != _expected[i]) return false;
        }
        return true;
    }

    /// @notice The weights hash this verifier accepts.
    function weightsHash() external view returns (uint256) {
        return _weightsHash;
    }
}
