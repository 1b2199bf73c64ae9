// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";
import {IFlavumInference} from "../interfaces/IFlavumInference.sol";

/**
 * @title RevertingConsumer (tests only)
 * @notice A consumer whose callback reverts or burns all the gas it is given, to show that a bad
 * callback cannot block fulfilment; in `Accept` mode it records the delivery instead, to show what a
 * callback receives. It has no `receive`, so as a requester it also shows that one refusing ether
 * cannot block the rejection of its own request.
 */
contract RevertingConsumer is IFlavumConsumer {
    enum Mode {
        Accept,
        Revert,
        BurnGas
    }

    /// @notice The callback fails this way (`Revert` mode).
    error RevertingConsumerRefuses(uint256 requestId);

    /// @notice `caller` delivered `outputWord` of `modelId` for `requestId` (`Accept` mode).
    event Delivered(address indexed caller, uint256 indexed requestId, uint256 modelId, uint256 outputWord);

    Mode private immutable _mode;

    /// @param mode what the callback does
    constructor(Mode mode) {
        _mode = mode;
    }

    /**
     * @notice Requests an inference from `rollup` as this contract, with itself as the callback.
     * @return requestId the rollup's request id
     */
    function request(address rollup, uint256 modelId, uint256 inputHash, bytes calldata input)
        external
        payable
        returns (uint256 requestId)
    {
        return IFlavumInference(rollup).requestInference{value: msg.value}(modelId, inputHash, input, address(this));
    }

    /// @inheritdoc IFlavumConsumer
    function onInference(uint256 requestId, uint256 modelId, uint256 outputWord) external {
        if (_mode == Mode.Accept) {
            emit Delivered(msg.sender, requestId, modelId, outputWord);
            return;
        }
        if (_mode == Mode.BurnGas) {
            uint256 x;
            while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
        }
        revert RevertingConsumerRefuses(requestId);
    }
}
