// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IContributorRevenue} from "../interfaces/IContributorRevenue.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IModelRepository} from "../interfaces/IModelRepository.sol";
import {IFlavumRollup} from "../interfaces/IFlavumRollup.sol";

/**
 * @title ContributorRevenue
 * @notice One pull-payment split per published model, its shares the proven training samples of the
 * model's history. See {IContributorRevenue}.
 */
contract ContributorRevenue is IContributorRevenue, ReentrancyGuard {
    /// @notice The most commits `open` reads: bounds its gas (each read is an external call).
    uint256 public constant MAX_HISTORY = 512;

    /// @dev A model's split. `totalShares` is non-zero once open: every payee holds at least one share.
    struct Split {
        uint256 totalShares;
        uint256 collected;
        address[] payees;
    }

    IModelRegistry private immutable _registry;
    IFlavumRollup private immutable _rollup;

    mapping(uint256 modelId => Split) private _splits;
    mapping(uint256 modelId => mapping(address account => uint256)) private _shares;
    mapping(uint256 modelId => mapping(address account => uint256)) private _released;

    /**
     * @param registry_ the model registry provenance is read from
     * @param rollup_ the rollup revenue is collected from; it must settle that registry's models, or model
     * ids would name different models here and there
     */
    constructor(address registry_, address rollup_) {
        if (registry_ == address(0)) revert FlavumZeroAddress("registry");
        if (rollup_ == address(0)) revert FlavumZeroAddress("rollup");
        address rollupRegistry = IFlavumRollup(rollup_).registry();
        if (rollupRegistry != registry_) revert FlavumRegistryMismatch(registry_, rollupRegistry);
        _registry = IModelRegistry(registry_);
        _rollup = IFlavumRollup(rollup_);
    }

    /// @notice Takes the revenue the rollup withdraws to this contract; refuses ether from anyone else.
    receive() external payable {
        if (msg.sender != address(_rollup)) revert FlavumNotRollup(msg.sender);
    }

    /// @inheritdoc IContributorRevenue
    function open(uint256 modelId) external {
        Split storage split = _splits[modelId];
        if (split.totalShares != 0) revert FlavumRevenueAlreadyOpen(modelId);
        IModelRegistry.Provenance memory p = _registry.provenanceOf(modelId);
        if (p.repository == address(0)) revert FlavumModelNotPublished(modelId);

        uint256 total = _walk(modelId, IModelRepository(p.repository), p.commitId);
        if (total == 0) {
            // Untrained weights: what they earn goes to whoever holds the repository, not to nobody.
            total = 1;
            _credit(modelId, IERC721(p.repository).ownerOf(p.repoId), 1);
        }
        split.totalShares = total;

        address[] memory accounts = split.payees;
        uint256[] memory amounts = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            amounts[i] = _shares[modelId][accounts[i]];
        }
        emit RevenueOpened(modelId, p.repository, p.repoId, p.commitId, accounts, amounts);
    }

    /**
     * @dev Credits the history of the weights of `commitId` (see {IContributorRevenue}); returns the samples
     * credited. The walk follows one line of strictly older commits (parents, merged commits and revert
     * targets all predate their commit) and a commit is merged once, so nothing is credited twice.
     */
    function _walk(uint256 modelId, IModelRepository repo, uint256 commitId) private returns (uint256 total) {
        uint256 reads;
        uint256 id = commitId;
        while (true) {
            if (++reads > MAX_HISTORY) revert FlavumHistoryTooLong(modelId, MAX_HISTORY);
            IModelRepository.Commit memory c = repo.commit(id);
            if (c.kind == IModelRepository.CommitKind.Train) {
                total += _creditCommit(modelId, c);
                id = c.parents[0];
            } else if (c.kind == IModelRepository.CommitKind.Merge) {
                // parents[0] is the head the merged commits all trained from.
                for (uint256 i = 1; i < c.parents.length; ++i) {
                    if (++reads > MAX_HISTORY) revert FlavumHistoryTooLong(modelId, MAX_HISTORY);
                    total += _creditCommit(modelId, repo.commit(c.parents[i]));
                }
                id = c.parents[0];
            } else if (c.kind == IModelRepository.CommitKind.Revert) {
                id = c.revertOf;
            } else {
                return total;
            }
        }
    }

    /// @dev A training commit's samples count only once it was merged: a proposal nobody took earns nothing.
    function _creditCommit(uint256 modelId, IModelRepository.Commit memory c) private returns (uint256) {
        if (c.status != IModelRepository.CommitStatus.Merged || c.samples == 0) return 0;
        _credit(modelId, c.author, c.samples);
        return c.samples;
    }

    function _credit(uint256 modelId, address account, uint256 amount) private {
        mapping(address => uint256) storage held = _shares[modelId];
        if (held[account] == 0) _splits[modelId].payees.push(account);
        held[account] += amount;
    }

    /// @inheritdoc IContributorRevenue
    function collect(uint256 modelId) external nonReentrant returns (uint256 amount) {
        return _collect(modelId);
    }

    function _collect(uint256 modelId) private returns (uint256 amount) {
        Split storage split = _splits[modelId];
        if (split.totalShares == 0) revert FlavumRevenueNotOpen(modelId);
        amount = _rollup.withdrawModelRevenue(modelId);
        if (amount != 0) {
            split.collected += amount;
            emit RevenueCollected(modelId, amount);
        }
    }

    /// @inheritdoc IContributorRevenue
    function release(uint256 modelId, address payable account) external nonReentrant returns (uint256 amount) {
        _collect(modelId);
        Split storage split = _splits[modelId];
        uint256 held = _shares[modelId][account];
        if (held == 0) revert FlavumNotPayee(modelId, account);
        amount = _due(split.collected, held, split.totalShares, _released[modelId][account]);
        if (amount == 0) revert FlavumNothingToRelease(modelId, account);
        _released[modelId][account] += amount;
        emit RevenueReleased(modelId, account, amount);
        Address.sendValue(account, amount);
    }

    /// @dev An account's pro-rata part of everything received, rounded down, less what it was paid.
    function _due(uint256 received, uint256 held, uint256 total, uint256 paid) private pure returns (uint256) {
        return Math.mulDiv(received, held, total) - paid;
    }

    /// @inheritdoc IContributorRevenue
    function payees(uint256 modelId) external view returns (address[] memory accounts, uint256[] memory amounts) {
        accounts = _splits[modelId].payees;
        amounts = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            amounts[i] = _shares[modelId][accounts[i]];
        }
    }

    /// @inheritdoc IContributorRevenue
    function totalShares(uint256 modelId) external view returns (uint256) {
        return _splits[modelId].totalShares;
    }

    /// @inheritdoc IContributorRevenue
    function shares(uint256 modelId, address account) external view returns (uint256) {
        return _shares[modelId][account];
    }

    /// @inheritdoc IContributorRevenue
    function released(uint256 modelId, address account) external view returns (uint256) {
        return _released[modelId][account];
    }

    /// @inheritdoc IContributorRevenue
    function totalReceived(uint256 modelId) public view returns (uint256) {
        return _splits[modelId].collected + _rollup.modelRevenueOf(modelId);
    }

    /// @inheritdoc IContributorRevenue
    function releasable(uint256 modelId, address account) external view returns (uint256) {
        uint256 held = _shares[modelId][account];
        if (held == 0) return 0;
        return _due(totalReceived(modelId), held, _splits[modelId].totalShares, _released[modelId][account]);
    }

    /// @inheritdoc IContributorRevenue
    function isOpen(uint256 modelId) external view returns (bool) {
        return _splits[modelId].totalShares != 0;
    }

    /// @inheritdoc IContributorRevenue
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IContributorRevenue
    function rollup() external view returns (address) {
        return address(_rollup);
    }
}
