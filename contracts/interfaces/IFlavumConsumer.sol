// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Receiver of verified inferences
 * @notice A contract that asks FlavumRollup for an inference (`requestInference`) names itself as the
 * callback; once the inference is proven in a batch and fulfilled, the rollup calls `onInference`
 * with a capped amount of gas. A callback that reverts does not undo the fulfilment: the rollup emits
 * `CallbackFailed` instead, so a consumer must not rely on being able to reject a result by reverting.
 */
interface IFlavumConsumer {
    /**
     * @notice Called by the rollup once request `requestId` is proven.
     * @param requestId the id `requestInference` returned
     * @param modelId the model that produced the output
     * @param outputWord the packed output: label in the low 8 bits, then the outputs (see
     * `IFlavumInference.decodeOutput`)
     */
    function onInference(uint256 requestId, uint256 modelId, uint256 outputWord) external;
}
