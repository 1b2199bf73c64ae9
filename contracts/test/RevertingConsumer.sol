// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";

/**
 * @title RevertingConsumer (tests only)
 * @notice A consumer whose callback reverts, or burns all the gas it is given, to show that a bad
 * callback cannot block fulfilment.
 */
contract RevertingConsumer is IFlavumConsumer {
    /// @notice The callback always fails this way.
    error RevertingConsumerRefuses(uint256 requestId);

    bool private immutable _burnGas;

    /// @param burnGas loop until out of gas instead of reverting
    constructor(bool burnGas) {
        _burnGas = burnGas;
    }

    /// @inheritdoc IFlavumConsumer
    function onInference(uint256 requestId, uint256, uint256) external view {
        if (_burnGas) {
            uint256 x;
            while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
        }
        revert RevertingConsumerRefuses(requestId);
    }
}
