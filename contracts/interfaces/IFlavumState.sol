// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum rollup state: data points, the priority queue, state batches, exits and exodus
 * @notice The rollup state is a sparse Poseidon tree of depth `stateDepth` over data points (leaf index =
 * data-point id): `leaf = Poseidon5(owner, kind, contentHash, asset, balance)`, kind 0 owned, 1 common.
 * Only the rollup's own state circuit writes it, and only through L1 priority operations: deposits,
 * transfers, exits and inference authorisations are appended to one queue (keccak of the five posted
 * field elements, see `src/protocol/stateBatch.ts`), and a state batch consumes the next operations in
 * order with one Groth16 proof of the six public inputs
 *
 *     [oldRoot, newRoot, exitRoot, meta, opsCommit, r, h]
 *     meta      = firstOp | count << 64 | status << 80 | stateBatch << 144 | log2(opsPerBatch) << 208
 *     opsCommit = the prover's Poseidon chain over the operations it proves (fixes them before r)
 *     r         = keccak256(abi.encodePacked(chainid, this, oldRoot, newRoot, exitRoot, meta, opsCommit, ops)) mod p
 *     h         = sum_{k,t} e_{k,t} r^(5k+t+1) mod p over the posted operations
 *
 * An operation older than `deadline` blocks must be processed: batches that leave it behind revert, and
 * anyone may then switch the rollup to exodus, where owners withdraw from the last proven state with a
 * Merkle proof and unprocessed deposits are refunded.
 */
interface IFlavumState {
    /// @notice Where a data point is: unknown, waiting in the queue to enter, in the rollup state, moved to a
    /// proven exit tree (claimable), or on L1 as a data-point token.
    enum Location {
        None,
        Queued,
        Rollup,
        Exiting,
        Token
    }

    /**
     * @notice What L1 knows of a data point: its content is fixed when it is first deposited.
     * @param contentHash the Poseidon commitment to its values (as model circuits compute `inputHash`)
     * @param size how many values
     * @param bits their signed bit width
     * @param kind 0 owned, 1 common
     * @param location where it is
     * @param fromToken whether its pending deposit re-deposits a claimed token (refunded as the token)
     * @param exitBatch the state batch that moved it to an exit tree (meaningful while `Exiting`)
     * @param exitSlot its slot in that batch's exit tree
     */
    struct DataPoint {
        uint256 contentHash;
        uint32 size;
        uint8 bits;
        uint8 kind;
        Location location;
        bool fromToken;
        uint64 exitBatch;
        uint8 exitSlot;
    }

    /**
     * @notice A state batch as submitted.
     * @param count how many queued operations it consumes
     * @param newRoot the state root after them
     * @param exitRoot the root of its exit tree (one leaf per slot)
     * @param status bit k: whether operation k was valid
     * @param opsCommit the prover's Poseidon commitment to the operations it proved
     * @param a the proof's A point
     * @param b the proof's B point
     * @param c the proof's C point
     */
    struct StateBatch {
        uint256 count;
        uint256 newRoot;
        uint256 exitRoot;
        uint256 status;
        uint256 opsCommit;
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// @notice Data point `dpId` was deposited with its values (`bits`-bit signed, committed as `contentHash`).
    event DataPointDeposited(
        uint256 indexed dpId,
        address indexed owner,
        uint8 kind,
        uint256 contentHash,
        uint8 bits,
        int256[] values,
        address asset,
        uint256 amount
    );
    /// @notice Claimed data-point token `dpId` was handed back by `owner` to re-enter the rollup.
    event DataPointRedeposited(uint256 indexed dpId, address indexed owner, uint256 amount);
    /// @notice Priority operation `opIndex` was queued with its five posted elements.
    event PriorityOpQueued(uint256 indexed opIndex, uint256 indexed dpId, uint8 opType, uint256[5] elements);
    /// @notice State batch `stateBatch` consumed operations `firstOp`..`firstOp + count - 1`.
    event StateBatchSubmitted(
        uint256 indexed stateBatch,
        uint256 firstOp,
        uint256 count,
        uint256 status,
        uint256 oldRoot,
        uint256 newRoot,
        uint256 exitRoot
    );
    /// @notice Data point `dpId` left the state in slot `slot` of state batch `stateBatch`'s exit tree.
    event DataPointExited(uint256 indexed dpId, uint256 indexed stateBatch, uint256 slot);
    /// @notice Data point `dpId` was claimed by `owner` as a token, with `amount` of `asset` paid out.
    event DataPointClaimed(uint256 indexed dpId, address indexed owner, address asset, uint256 amount);
    /// @notice Operation `opIndex` was processed but found invalid (not the owner, a common data point, ...).
    event PriorityOpRefused(uint256 indexed opIndex, uint256 indexed dpId, uint8 opType);
    /// @notice Exodus mode: operation `overdueOp` was due at `dueBlock`; the state is frozen at `root`.
    event ExodusActivated(uint256 overdueOp, uint256 dueBlock, uint256 root);
    /// @notice In exodus, `owner` withdrew data point `dpId` from the last proven state.
    event ExodusWithdrawn(uint256 indexed dpId, address indexed owner, address asset, uint256 amount);
    /// @notice In exodus, unprocessed operation `opIndex` was refunded to `to`.
    event ExodusRefunded(uint256 indexed opIndex, address indexed to, address asset, uint256 amount);
    /// @notice `owner`'s signed request with nonce `nonce` was queued by `relayer` (a node, or anyone).
    event SignedRequestRelayed(address indexed owner, uint256 indexed nonce, address indexed relayer);

    /// @notice `what` must not be the zero address.
    error FlavumStateZeroAddress(string what);
    /// @notice The rollup is in exodus mode: no batches, no new operations.
    error FlavumExodusActive();
    /// @notice This needs exodus mode, which is not active.
    error FlavumExodusInactive();
    /// @notice No operation is overdue: the oldest pending one, `opIndex`, is due at `dueBlock` (0: none pending).
    error FlavumNothingOverdue(uint256 opIndex, uint256 dueBlock);
    /// @notice Only a sequencer of the rollup may do this; `account` is not one.
    error FlavumStateNotSequencer(address account);
    /// @notice A state batch takes 1..`opsPerBatch` operations, got `count`.
    error FlavumStateInvalidCount(uint256 count, uint256 opsPerBatch);
    /// @notice Only `pending` operations are queued from `firstOp`; the batch asked for `count`.
    error FlavumNotEnoughOps(uint256 firstOp, uint256 count, uint256 pending);
    /// @notice Posted operation `opIndex` is not the one queued there.
    error FlavumOpMismatch(uint256 opIndex);
    /// @notice The posted operations are `length` bytes; `count` operations take `expected`.
    error FlavumInvalidOpsLength(uint256 length, uint256 expected);
    /// @notice Status bits `status` name operations beyond the batch's `count`.
    error FlavumInvalidStatus(uint256 status, uint256 count);
    /// @notice The state verifier rejected state batch `stateBatch`.
    error FlavumInvalidStateProof(uint256 stateBatch);
    /// @notice Operation `opIndex` has been due since `dueBlock`: a batch must process it first.
    error FlavumOverdueOp(uint256 opIndex, uint256 dueBlock);
    /// @notice A data point's content takes 1..`maxValues` values of `bits` bits (1..64); got `size`.
    error FlavumInvalidContent(uint256 size, uint8 bits, uint256 maxValues);
    /// @notice Content value `index` is `value`, outside the `bits`-bit signed range.
    error FlavumContentOutOfRange(uint256 index, int256 value, uint8 bits);
    /// @notice A common data point carries no balance; `amount` was sent.
    error FlavumCommonBalance(uint256 amount);
    /// @notice `amount` does not fit a data point's 128-bit balance.
    error FlavumAmountTooLarge(uint256 amount);
    /// @notice The state tree holds data points 1..`capacity`; it is full.
    error FlavumStateFull(uint256 capacity);
    /// @notice Data point `dpId` is `location`, which does not allow this.
    error FlavumWrongLocation(uint256 dpId, Location location);
    /// @notice Only `owner` may do this with data point `dpId`.
    error FlavumNotDataPointOwner(uint256 dpId, address owner);
    /// @notice Model `modelId` takes `modelSize` values of `modelBits` bits; data point `dpId` holds
    /// `size` of `bits`.
    error FlavumLayoutMismatch(uint256 modelId, uint256 dpId, uint256 modelSize, uint8 modelBits, uint256 size, uint8 bits);
    /// @notice The exit of slot `slot` in state batch `stateBatch` was already claimed.
    error FlavumAlreadyClaimed(uint256 stateBatch, uint256 slot);
    /// @notice The claimed exit is not slot `slot` of state batch `stateBatch`'s exit tree.
    error FlavumExitNotProven(uint256 stateBatch, uint256 slot);
    /// @notice Data point `dpId` is not in the last proven state with these fields.
    error FlavumStateNotProven(uint256 dpId);
    /// @notice Data point `dpId` was already withdrawn in exodus.
    error FlavumAlreadyWithdrawn(uint256 dpId);
    /// @notice Operation `opIndex` was processed or refunded already, or holds nothing to refund.
    error FlavumNothingToRefund(uint256 opIndex);
    /// @notice A hasher for `inputs` inputs is needed and was not configured.
    error FlavumNoHasher(uint256 inputs);
    /// @notice The signed request expired at `deadline` (unix seconds).
    error FlavumSignatureExpired(uint256 deadline);
    /// @notice `owner` already used nonce `nonce`: a signed request is queued once.
    error FlavumNonceUsed(address owner, uint256 nonce);
    /// @notice The signature is not `owner`'s over this request.
    error FlavumInvalidSignature(address owner);

    /**
     * @notice Deposits a data point with `values` (each `bits`-bit signed) and the ETH sent as its balance.
     * @param values its content
     * @param bits the signed bit width of the values (a model's input bits)
     * @param common whether anyone may run inference on it (then it carries no balance and nobody withdraws it)
     * @return dpId its id
     */
    function deposit(int256[] calldata values, uint8 bits, bool common) external payable returns (uint256 dpId);

    /**
     * @notice Deposits an owned data point with `amount` of ERC-20 `asset` as its balance (approved first).
     * @param values its content
     * @param bits the signed bit width of the values
     * @param asset the ERC-20 token
     * @param amount how much to move in (the balance credited is what arrived)
     * @return dpId its id
     */
    function depositERC20(int256[] calldata values, uint8 bits, address asset, uint256 amount) external returns (uint256 dpId);

    /**
     * @notice Hands a claimed data-point token back: it is burnt and data point `dpId` re-enters the rollup,
     * owned by the caller, with the ETH sent as its balance.
     * @param dpId the token id (= the data-point id)
     */
    function depositToken(uint256 dpId) external payable;

    /**
     * @notice Asks the rollup to transfer owned data point `dpId` to `to`; valid only if the caller owns it
     * when the operation is processed (proven by the state circuit).
     * @param dpId the data point
     * @param to the new owner
     */
    function requestTransfer(uint256 dpId, address to) external;

    /**
     * @notice Asks the rollup to move owned data point `dpId` to an exit tree, from which its owner then
     * claims it as a token with its balance (`claim`).
     * @param dpId the data point
     */
    function requestExit(uint256 dpId) external;

    /**
     * @notice `requestTransfer` on behalf of `owner`, who signed it (EIP-712 `Transfer(uint256 dpId,address to,
     * uint256 nonce,uint256 deadline)` in the domain "FlavumState" "1" of this contract and chain); anyone may
     * relay it (the node does, paying the gas). Ownership is still proven by the state circuit: a signature of
     * someone who does not own the data point queues an operation the next state batch refuses. Each nonce is
     * used once per owner, in any order.
     * @param owner the signer, who must own the data point
     * @param dpId the data point
     * @param to the new owner
     * @param nonce any number `owner` has not used yet
     * @param deadline unix time after which the signature is void
     * @param signature `owner`'s signature (65 bytes, or a contract's ERC-1271 signature)
     */
    function requestTransferBySig(address owner, uint256 dpId, address to, uint256 nonce, uint256 deadline, bytes calldata signature)
        external;

    /**
     * @notice `requestExit` on behalf of `owner`, who signed EIP-712 `Exit(uint256 dpId,uint256 nonce,uint256
     * deadline)`; see `requestTransferBySig`.
     * @param owner the signer, who must own the data point
     * @param dpId the data point
     * @param nonce any number `owner` has not used yet
     * @param deadline unix time after which the signature is void
     * @param signature `owner`'s signature
     */
    function requestExitBySig(address owner, uint256 dpId, uint256 nonce, uint256 deadline, bytes calldata signature) external;

    /// @notice Whether `owner` has used `nonce` for a signed request.
    /// @param owner the signer
    /// @param nonce the nonce
    /// @return used true once a request with it was queued
    function nonceUsed(address owner, uint256 nonce) external view returns (bool used);

    /**
     * @notice Asks model `modelId` for an inference on data point `dpId`, paying the rollup's request fee.
     * The next state batch proves the caller may use it (common, or owned by the caller); the request then
     * joins the model's queue as an on-chain request on the data point's content, or is rejected and refunded.
     * @param modelId the model
     * @param dpId the data point
     * @param callback an `IFlavumConsumer` to call back, or zero
     * @return requestId the rollup's request id
     */
    function requestInference(uint256 modelId, uint256 dpId, address callback) external payable returns (uint256 requestId);

    /**
     * @notice Settles a proven state batch: the next `batch.count` queued operations, posted as `ops`
     * (count × 5 × 32 bytes), move the state root to `batch.newRoot`.
     * @param batch the batch's statement and proof
     * @param ops the posted operations
     */
    function submitStateBatch(StateBatch calldata batch, bytes calldata ops) external;

    /**
     * @notice Claims an exited data point as a token, with its balance, by its owner.
     * @param stateBatch the state batch that exited it
     * @param slot its slot in that batch's exit tree
     * @param dpId the data point
     * @param contentHash its content commitment
     * @param asset its balance's asset (0 = ETH)
     * @param balance its balance
     * @param path the exit-tree siblings from the leaf up
     */
    function claim(
        uint256 stateBatch,
        uint256 slot,
        uint256 dpId,
        uint256 contentHash,
        address asset,
        uint256 balance,
        uint256[] calldata path
    ) external;

    /// @notice Switches to exodus mode when the oldest unprocessed operation is overdue; anyone may call it.
    function activateExodus() external;

    /**
     * @notice In exodus mode, withdraws owned data point `dpId` and its balance from the last proven state.
     * @param dpId the data point
     * @param contentHash its content commitment
     * @param asset its balance's asset
     * @param balance its balance
     * @param siblings the state-tree siblings from the leaf up (`stateDepth` of them)
     */
    function exodusWithdraw(
        uint256 dpId,
        uint256 contentHash,
        address asset,
        uint256 balance,
        uint256[] calldata siblings
    ) external;

    /**
     * @notice In exodus mode, refunds unprocessed operation `opIndex`: a deposit's amount (and a re-deposited
     * token) to its depositor, an inference request's fee to its requester.
     * @param opIndex the operation
     * @param elements its five posted elements
     */
    function exodusRefund(uint256 opIndex, uint256[5] calldata elements) external;

    /// @notice Reverts if the rollup is in exodus or an operation is overdue: what model batches check.
    function checkLive() external view;

    /// @notice What L1 knows of data point `dpId`.
    function dataPoint(uint256 dpId) external view returns (DataPoint memory);

    /// @notice The last proven state root, the number of state batches, and the queue's head and tail.
    function stateInfo() external view returns (uint256 root, uint256 stateBatches, uint256 opHead, uint256 opTail, bool exodus);

    /// @notice The exit-tree root of state batch `stateBatch` (0 if none).
    function exitRootOf(uint256 stateBatch) external view returns (uint256);

    /// @notice Whether slot `slot` of state batch `stateBatch`'s exit tree was claimed.
    function isClaimed(uint256 stateBatch, uint256 slot) external view returns (bool);

    /// @notice The data-point token contract.
    function token() external view returns (address);

    /// @notice The state tree's depth, the operations per state batch and the deadline in blocks.
    function parameters() external view returns (uint256 stateDepth, uint256 opsPerBatch, uint256 deadline);
}
