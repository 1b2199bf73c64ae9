// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum contributor revenue
 * @notice Pays the contributors of a published model (`IModelRegistry.publish`) their share of the
 * inference fees the rollup set aside for it (`IFlavumRollup.modelRevenueOf`), by pull payments: one split
 * per model, its shares fixed when it is opened.
 *
 * Shares. `open` walks the history of the model's weights back from its commit in the repository it was
 * published from: a Train commit credits its author with its proven samples and the walk goes on at its
 * parent; a Merge commit credits each merged commit's author with that commit's samples and goes on at the
 * merge target's head (its first parent); a Revert goes on at the commit whose weights it restored; the
 * Initial commit ends the walk. Only Merged training commits credit anyone: a commit that was proposed and
 * never merged, or rejected (even after it was built on), earns nothing. An account's shares are the samples
 * summed over its credited commits. A published commit's history never changes, so neither do the shares.
 * If nobody is credited (a model published from untrained weights), the repository token's holder at `open`
 * is the one payee, with one share. The walk reads at most `MAX_HISTORY` commits: a longer history cannot be
 * opened, and its revenue stays in the rollup.
 *
 * Payments. An account may be paid `totalReceived * shares / totalShares - released` at any time, rounded
 * down (the rounding dust stays in this contract). `release` first collects what the rollup accrued.
 */
interface IContributorRevenue {
    /// @notice The split of model `modelId`, published from commit `commitId` of repository `repoId` of
    /// `repository`, was opened: `accounts` (first credited first) hold `shares`.
    event RevenueOpened(
        uint256 indexed modelId,
        address indexed repository,
        uint256 indexed repoId,
        uint256 commitId,
        address[] accounts,
        uint256[] shares
    );
    /// @notice `amount` of model `modelId`'s revenue was collected from the rollup.
    event RevenueCollected(uint256 indexed modelId, uint256 amount);
    /// @notice `account` was paid `amount` of model `modelId`'s revenue.
    event RevenueReleased(uint256 indexed modelId, address indexed account, uint256 amount);

    /// @notice A zero address was given for `what`.
    error FlavumZeroAddress(string what);
    /// @notice The rollup settles models of registry `rollupRegistry`, not of `registry`.
    error FlavumRegistryMismatch(address registry, address rollupRegistry);
    /// @notice Model `modelId`'s split is already open.
    error FlavumRevenueAlreadyOpen(uint256 modelId);
    /// @notice Model `modelId` was not published from a repository (or does not exist).
    error FlavumModelNotPublished(uint256 modelId);
    /// @notice Model `modelId`'s split is not open: call `open` first.
    error FlavumRevenueNotOpen(uint256 modelId);
    /// @notice Model `modelId`'s history has more than `maxHistory` commits.
    error FlavumHistoryTooLong(uint256 modelId, uint256 maxHistory);
    /// @notice `account` holds no shares of model `modelId`.
    error FlavumNotPayee(uint256 modelId, address account);
    /// @notice `account` has been paid all it is due of model `modelId` so far.
    error FlavumNothingToRelease(uint256 modelId, address account);
    /// @notice Only the rollup sends ether here; `sender` is not it.
    error FlavumNotRollup(address sender);

    /**
     * @notice Opens model `modelId`'s split, fixing its payees and shares from the history of its weights
     * (see the notice). Anyone may call it, once per model.
     * @param modelId a published model
     */
    function open(uint256 modelId) external;

    /**
     * @notice Withdraws model `modelId`'s accrued revenue from the rollup into this contract. Anyone may call.
     * @param modelId a model whose split is open
     * @return amount the amount collected (0 if nothing had accrued)
     */
    function collect(uint256 modelId) external returns (uint256 amount);

    /**
     * @notice Collects, then pays `account` what it is due of model `modelId`'s revenue. Anyone may call it
     * for any payee; the ether goes to `account`.
     * @param modelId a model whose split is open
     * @param account a payee
     * @return amount the amount paid
     */
    function release(uint256 modelId, address payable account) external returns (uint256 amount);

    /**
     * @notice The payees of model `modelId`, in the order the walk first credited them, and their shares.
     * @param modelId the model
     * @return accounts the payees (empty before `open`)
     * @return shares each payee's shares
     */
    function payees(uint256 modelId) external view returns (address[] memory accounts, uint256[] memory shares);

    /**
     * @notice The sum of model `modelId`'s shares.
     * @param modelId the model
     * @return the total (0 before `open`)
     */
    function totalShares(uint256 modelId) external view returns (uint256);

    /**
     * @notice `account`'s shares of model `modelId`.
     * @param modelId the model
     * @param account the account
     * @return the shares (0 for a non-payee)
     */
    function shares(uint256 modelId, address account) external view returns (uint256);

    /**
     * @notice What `account` has been paid of model `modelId`'s revenue.
     * @param modelId the model
     * @param account the account
     * @return the amount, in wei
     */
    function released(uint256 modelId, address account) external view returns (uint256);

    /**
     * @notice All revenue model `modelId` has earned: collected here plus still accrued in the rollup.
     * @param modelId the model
     * @return the amount, in wei
     */
    function totalReceived(uint256 modelId) external view returns (uint256);

    /**
     * @notice What `release` would pay `account` of model `modelId` now, the rollup's accrual included.
     * @param modelId the model
     * @param account the account
     * @return the amount, in wei (0 for a non-payee or before `open`)
     */
    function releasable(uint256 modelId, address account) external view returns (uint256);

    /**
     * @notice Whether model `modelId`'s split is open.
     * @param modelId the model
     * @return true once `open` succeeded
     */
    function isOpen(uint256 modelId) external view returns (bool);

    /// @notice The model registry provenance is read from.
    function registry() external view returns (address);

    /// @notice The rollup revenue is collected from.
    function rollup() external view returns (address);
}
