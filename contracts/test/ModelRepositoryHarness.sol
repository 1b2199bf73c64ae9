// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelRepository} from "../repos/ModelRepository.sol";

/**
 * @title ModelRepositoryHarness (tests only)
 * @notice ModelRepository plus a back door that records a training commit without its checks, so a
 * test can reach invariants the checks keep unreachable (e.g. two Proposed commits from one parent
 * with the same data, which one-use training triples already prevent) and show the next line of
 * defence holds on its own.
 */
contract ModelRepositoryHarness is ModelRepository {
    /// @notice Records a Proposed training commit on `branch` (head `parent`) with no proof and no reuse check.
    function plantTrainCommit(
        uint256 repoId,
        string calldata branch,
        uint256 parent,
        bytes32 weightsHash,
        bytes32 dataHash,
        uint32 samples,
        uint32 correct
    ) external returns (uint256) {
        return _recordTrain(repoId, branch, parent, weightsHash, dataHash, samples, correct);
    }
}
