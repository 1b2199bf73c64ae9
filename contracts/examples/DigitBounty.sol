// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";
import {IFlavumInference} from "../interfaces/IFlavumInference.sol";
import {IDigitBounty} from "./IDigitBounty.sol";

/**
 * @title DigitBounty
 * @notice Pays for an input that a registered digits model, proven through FlavumRollup, labels as
 * `digit`. See {IDigitBounty}.
 */
contract DigitBounty is IDigitBounty, IFlavumConsumer {
    IFlavumInference private immutable _rollup;
    uint256 private immutable _modelId;
    uint8 private immutable _digit;
    address private immutable _funder;
    uint64 private immutable _deadline;

    bool private _settled;
    mapping(uint256 requestId => address claimant) private _claims;

    /**
     * @param rollup_ the FlavumRollup to request inferences from
     * @param modelId_ the digits model (its output word's low 8 bits are the label)
     * @param digit_ the digit to be shown, 0..9
     * @param deadline_ when the funder may take the bounty back
     */
    constructor(address rollup_, uint256 modelId_, uint8 digit_, uint64 deadline_) payable {
        if (digit_ > 9) revert FlavumInvalidDigit(digit_);
        _rollup = IFlavumInference(rollup_);
        _modelId = modelId_;
        _digit = digit_;
        _funder = msg.sender;
        _deadline = deadline_;
        if (msg.value > 0) emit BountyFunded(msg.sender, msg.value, msg.value);
    }

    /// @inheritdoc IDigitBounty
    function fund() external payable {
        if (_settled) revert FlavumBountySettled();
        emit BountyFunded(msg.sender, msg.value, address(this).balance);
    }

    /// @inheritdoc IDigitBounty
    function claim(uint256 inputHash, bytes calldata input) external payable returns (uint256 requestId) {
        if (_settled) revert FlavumBountySettled();
        requestId = _rollup.requestInference{value: msg.value}(_modelId, inputHash, input, address(this));
        _claims[requestId] = msg.sender;
        emit ClaimRequested(requestId, msg.sender, inputHash);
    }

    /// @inheritdoc IFlavumConsumer
    function onInference(uint256 requestId, uint256 modelId_, uint256 outputWord) external {
        if (msg.sender != address(_rollup)) revert FlavumNotRollup(msg.sender);
        address claimant = _claims[requestId];
        if (claimant == address(0)) revert FlavumUnknownClaim(requestId);
        delete _claims[requestId];

        uint8 label = uint8(outputWord);
        if (_settled || modelId_ != _modelId || label != _digit) {
            emit ClaimRejected(requestId, claimant, label);
            return;
        }
        _settled = true;
        uint256 amount = address(this).balance;
        emit BountyPaid(requestId, claimant, amount);
        Address.sendValue(payable(claimant), amount);
    }

    /// @inheritdoc IDigitBounty
    function reclaim() external {
        if (msg.sender != _funder) revert FlavumNotFunder(msg.sender);
        if (_settled) revert FlavumBountySettled();
        if (block.timestamp < _deadline) revert FlavumBountyStillOpen(_deadline);
        _settled = true;
        uint256 amount = address(this).balance;
        emit BountyReclaimed(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IDigitBounty
    function rollup() external view returns (address) {
        return address(_rollup);
    }

    /// @inheritdoc IDigitBounty
    function modelId() external view returns (uint256) {
        return _modelId;
    }

    /// @inheritdoc IDigitBounty
    function digit() external view returns (uint8) {
        return _digit;
    }

    /// @inheritdoc IDigitBounty
    function funder() external view returns (address) {
        return _funder;
    }

    /// @inheritdoc IDigitBounty
    function deadline() external view returns (uint64) {
        return _deadline;
    }

    /// @inheritdoc IDigitBounty
    function settled() external view returns (bool) {
        return _settled;
    }

    /// @inheritdoc IDigitBounty
    function claimantOf(uint256 requestId) external view returns (address) {
        return _claims[requestId];
    }
}
