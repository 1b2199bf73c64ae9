// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlavumDataPointRequests} from "../interfaces/IFlavumDataPointRequests.sol";

/**
 * @title DataPointReader
 * @notice An example dApp that trusts only proven results: it records model M's label for a data point
 * once the rollup holds a delivered (proof-checked) result, and refuses before.
 */
contract DataPointReader {
    /// @notice Model `modelId` has no proven result on data point `dpId` yet.
    error NoProvenResult(uint256 dpId, uint256 modelId);

    /// @notice Data point `dpId` was labelled `label` by model `modelId` in batch `batchId`.
    event Labelled(uint256 indexed dpId, uint256 indexed modelId, uint8 label, uint256 batchId);

    IFlavumDataPointRequests private immutable _rollup;
    mapping(uint256 dpId => mapping(uint256 modelId => uint8)) private _labels;

    /// @param rollup the FlavumRollup to read
    constructor(address rollup) {
        _rollup = IFlavumDataPointRequests(rollup);
    }

    /// @notice Records model `modelId`'s proven label of data point `dpId`; reverts if there is none.
    function record(uint256 dpId, uint256 modelId) external returns (uint8 label) {
        (bool found, uint256 outputWord, uint256 batchId) = _rollup.dataPointResult(dpId, modelId);
        if (!found) revert NoProvenResult(dpId, modelId);
        label = uint8(outputWord);
        _labels[dpId][modelId] = label;
        emit Labelled(dpId, modelId, label, batchId);
    }

    /// @notice The label recorded for (`dpId`, `modelId`).
    function labelOf(uint256 dpId, uint256 modelId) external view returns (uint8) {
        return _labels[dpId][modelId];
    }
}
