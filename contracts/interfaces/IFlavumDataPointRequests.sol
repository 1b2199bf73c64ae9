// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title What the rollup's state contract asks of FlavumRollup
 * @notice Inference requests on data points live with the other requests in FlavumRollup (fees, queues,
 * delivery), but enter a model's queue only once a proven state batch says the requester may use the data
 * point. Only the attached state contract may call these.
 */
interface IFlavumDataPointRequests {
    /// @notice Request `requestId` asks model `modelId` about data point `dpId`, pending authorisation.
    event DataPointInferenceRequested(
        uint256 indexed requestId, uint256 indexed modelId, uint256 indexed dpId, address requester, address callback
    );
    /// @notice The state contract `state` was attached (once).
    event StateAttached(address state);

    /// @notice Only the attached state contract `state` may do this.
    error FlavumNotStateContract(address state);
    /// @notice A state contract is attached already: `state`.
    error FlavumStateAlreadyAttached(address state);

    /**
     * @notice Opens a request (status `Authorizing`) of `requester` for model `modelId` on data point `dpId`,
     * whose content commitment is `contentHash`; the value sent is its fee.
     * @return requestId the new request's id
     */
    function openDataPointRequest(uint256 modelId, uint256 dpId, uint256 contentHash, address requester, address callback)
        external
        payable
        returns (uint256 requestId);

    /// @notice A proven state batch authorised request `requestId`: it joins its model's queue, due from now.
    function releaseDataPointRequest(uint256 requestId) external;

    /// @notice Request `requestId` was refused (no consent, or exodus): rejected and refunded.
    function refuseDataPointRequest(uint256 requestId, string calldata reason) external;

    /// @notice Whether `account` holds the rollup's sequencer role.
    function isSequencer(address account) external view returns (bool);

    /// @notice Model `modelId`'s delivered result on data point `dpId` (`found` false if none yet).
    function dataPointResult(uint256 dpId, uint256 modelId)
        external
        view
        returns (bool found, uint256 outputWord, uint256 batchId);
}
