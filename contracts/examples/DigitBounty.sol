// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";
import {IFlavumInference} from "../interfaces/IFlavumInference.sol";
import {IDigitBounty} from "./IDigitBounty.sol";

/**
 * @title DigitBounty
 * @notice Pays for an input that a registered digits model, proven through FlavumRollup, labels as
 * `digit`, to the claimant who committed to that input first. See {IDigitBounty}.
 */
contract DigitBounty is IDigitBounty, IFlavumConsumer {
    struct Claim {
        address claimant;
        uint256 inputHash;
    }

    struct InputOwner {
        address claimant;
        uint64 commitBlock;
    }

    IFlavumInference private immutable _rollup;
    uint256 private immutable _modelId;
    uint8 private immutable _digit;
    address private immutable _funder;
    uint64 private immutable _deadline;

    bool private _settled;
    mapping(uint256 requestId => Claim) private _claims;
    mapping(bytes32 commitment => uint64 blockNumber) private _commitBlocks;
    mapping(uint256 inputHash => InputOwner) private _owners;

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
    function commit(bytes32 commitment) external {
        if (_settled) revert FlavumBountySettled();
        if (commitment == bytes32(0)) revert FlavumZeroCommitment();
        // First sighting wins: a re-sent commitment (by anyone) must not move its block later.
        if (_commitBlocks[commitment] != 0) return;
        _commitBlocks[commitment] = uint64(block.number);
        emit ClaimCommitted(commitment, block.number);
    }

    /// @inheritdoc IDigitBounty
    function claim(uint256 inputHash, bytes calldata input, bytes32 salt) external payable returns (uint256 requestId) {
        if (_settled) revert FlavumBountySettled();
        bytes32 c = commitmentFor(msg.sender, inputHash, salt);
        uint256 committed = _commitBlocks[c];
        if (committed == 0) revert FlavumNoCommitment(msg.sender, inputHash, c);
        // A commitment made in the reveal's own block could have been ordered after seeing the reveal.
        if (block.number <= committed) revert FlavumCommitmentTooRecent(c, committed, committed + 1);
        InputOwner memory owner = _owners[inputHash];
        // Equal blocks: both knew the input before any reveal; the first revealed keeps it. Reverting
        // here spares a late copier the fee; the callback re-checks for reveals that were delayed.
        if (owner.claimant != address(0) && owner.claimant != msg.sender && owner.commitBlock <= committed) {
            revert FlavumInputClaimedEarlier(inputHash, owner.claimant, owner.commitBlock, committed);
        }
        // An earlier commitment revealed late (its reveal delayed or censored) takes the input back.
        if (owner.claimant == address(0) || committed < owner.commitBlock) {
            _owners[inputHash] = InputOwner({claimant: msg.sender, commitBlock: uint64(committed)});
        }
        requestId = _rollup.requestInference{value: msg.value}(_modelId, inputHash, input, address(this));
        _claims[requestId] = Claim({claimant: msg.sender, inputHash: inputHash});
        emit ClaimRequested(requestId, msg.sender, inputHash, committed);
    }

    /// @inheritdoc IFlavumConsumer
    function onInference(uint256 requestId, uint256 modelId_, uint256 outputWord) external {
        if (msg.sender != address(_rollup)) revert FlavumNotRollup(msg.sender);
        Claim memory c = _claims[requestId];
        if (c.claimant == address(0)) revert FlavumUnknownClaim(requestId);
        delete _claims[requestId];

        uint8 label = uint8(outputWord);
        RejectReason reason;
        if (_settled) {
            reason = RejectReason.Settled;
        } else if (modelId_ != _modelId) {
            reason = RejectReason.WrongModel;
        } else if (_owners[c.inputHash].claimant != c.claimant) {
            // Decided at delivery, not at reveal: whoever's request is fulfilled first, only the owner is paid.
            reason = RejectReason.EarlierCommitment;
        } else if (label != _digit) {
            reason = RejectReason.WrongDigit;
        } else {
            _settled = true;
            uint256 amount = address(this).balance;
            emit BountyPaid(requestId, c.claimant, amount);
            Address.sendValue(payable(c.claimant), amount);
            return;
        }
        emit ClaimRejected(requestId, c.claimant, label, reason);
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
    function commitmentFor(address claimant, uint256 inputHash, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(claimant, inputHash, salt));
    }

    /// @inheritdoc IDigitBounty
    function commitBlockOf(bytes32 commitment) external view returns (uint256) {
        return _commitBlocks[commitment];
    }

    /// @inheritdoc IDigitBounty
    function ownerOfInput(uint256 inputHash) external view returns (address owner, uint256 commitBlock) {
        InputOwner memory o = _owners[inputHash];
        return (o.claimant, o.commitBlock);
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
        return _claims[requestId].claimant;
    }
}
