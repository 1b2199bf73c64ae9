// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IFlavumState} from "../interfaces/IFlavumState.sol";
import {IFlavumDataPointRequests} from "../interfaces/IFlavumDataPointRequests.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStateVerifier} from "../interfaces/IGroth16Verifier.sol";
import {IPoseidon2, IPoseidon5} from "../interfaces/IPoseidon.sol";
import {PackedContent} from "../libraries/PackedContent.sol";
import {DataPointToken} from "./DataPointToken.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title FlavumState
 * @notice The rollup's state (see {IFlavumState}): data points enter through L1 deposits, move and leave
 * through L1 requests, and every change is proven by the state circuit. It holds the deposited ETH and
 * ERC-20 balances until a proven exit (or, in exodus, the last proven state) releases them, and mints the
 * data-point tokens. Nobody administers it: its parameters, verifier and hashers are fixed at deployment.
 */
contract FlavumState is IFlavumState, ReentrancyGuard, EIP712 {
    using SafeERC20 for IERC20;

    /**
     * @notice Deployment parameters.
     * @param rollup the FlavumRollup whose sequencers submit state batches and which holds inference requests
     * @param registry the model registry (input layouts)
     * @param verifier the state circuit's Groth16 verifier
     * @param poseidon2 the 2-input hasher (tree nodes, exit leaves)
     * @param poseidon5 the 5-input hasher (data-point leaves)
     * @param contentHashers the hashers of 2..6 inputs, in that order (content commitments)
     * @param stateDepth the state tree's depth (data points 1..2^depth - 1)
     * @param opsLog2 log2 of the operations per state batch
     * @param deadline blocks within which a queued operation must be processed
     * @param emptyRoot the root of the empty state tree
     */
    struct Config {
        address rollup;
        address registry;
        address verifier;
        address poseidon2;
        address poseidon5;
        address[5] contentHashers;
        uint8 stateDepth;
        uint8 opsLog2;
        uint64 deadline;
        uint256 emptyRoot;
    }

    uint256 private constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Five 32-byte elements per posted operation.
    uint256 private constant OP_BYTES = 160;
    uint8 private constant OP_DEPOSIT = 1;
    uint8 private constant OP_TRANSFER = 2;
    uint8 private constant OP_EXIT = 3;
    uint8 private constant OP_INFER = 4;
    uint256 private constant KIND_SHIFT = 8;
    uint256 private constant DP_SHIFT = 16;
    uint256 private constant REQUEST_SHIFT = 80;
    uint256 private constant BLOCK_SHIFT = 144;
    uint256 private constant MASK64 = type(uint64).max;
    /// @dev A queued operation is stored as the low 192 bits of its keccak with its block above.
    uint256 private constant STORED_BLOCK_SHIFT = 192;
    bytes32 private constant TRANSFER_TYPEHASH =
        keccak256("Transfer(uint256 dpId,address to,uint256 nonce,uint256 deadline)");
    bytes32 private constant EXIT_TYPEHASH = keccak256("Exit(uint256 dpId,uint256 nonce,uint256 deadline)");

    IFlavumDataPointRequests private immutable _rollup;
    IModelRegistry private immutable _registry;
    IStateVerifier private immutable _verifier;
    IPoseidon2 private immutable _poseidon2;
    IPoseidon5 private immutable _poseidon5;
    DataPointToken private immutable _token;
    uint256 private immutable _depth;
    uint256 private immutable _opsLog2;
    uint256 private immutable _deadline;

    address[5] private _contentHashers;
    uint256 private _root;
    uint64 private _opHead;
    uint64 private _opTail;
    uint64 private _stateBatches;
    uint64 private _dpCount;
    bool private _exodus;

    mapping(uint256 opIndex => uint256) private _ops;
    mapping(uint256 dpId => DataPoint) private _dataPoints;
    mapping(uint256 stateBatch => uint256) private _exitRoots;
    mapping(uint256 word => uint256) private _claimedBits;
    mapping(uint256 word => uint256) private _exodusBits;
    mapping(uint256 opIndex => bool) private _refunded;
    mapping(address owner => mapping(uint256 nonce => bool)) private _nonces;

    constructor(Config memory config) EIP712("FlavumState", "1") {
        if (config.rollup == address(0)) revert FlavumStateZeroAddress("rollup");
        if (config.registry == address(0)) revert FlavumStateZeroAddress("registry");
        if (config.verifier == address(0)) revert FlavumStateZeroAddress("verifier");
        if (config.poseidon2 == address(0)) revert FlavumStateZeroAddress("poseidon2");
        if (config.poseidon5 == address(0)) revert FlavumStateZeroAddress("poseidon5");
        for (uint256 i; i < 5; ++i) {
            if (config.contentHashers[i] == address(0)) revert FlavumStateZeroAddress("content hasher");
        }
        if (config.stateDepth == 0 || config.stateDepth > 32 || config.opsLog2 > 6) {
            revert FlavumStateInvalidCount(config.stateDepth, config.opsLog2);
        }
        _rollup = IFlavumDataPointRequests(config.rollup);
        _registry = IModelRegistry(config.registry);
        _verifier = IStateVerifier(config.verifier);
        _poseidon2 = IPoseidon2(config.poseidon2);
        _poseidon5 = IPoseidon5(config.poseidon5);
        _contentHashers = config.contentHashers;
        _depth = config.stateDepth;
        _opsLog2 = config.opsLog2;
        _deadline = config.deadline;
        _root = config.emptyRoot;
        _token = new DataPointToken(config.rollup);
    }

    // ------------------------------------------------------------------ L1 operations

    /// @inheritdoc IFlavumState
    function deposit(int256[] calldata values, uint8 bits, bool common) external payable returns (uint256 dpId) {
        if (common && msg.value != 0) revert FlavumCommonBalance(msg.value);
        return _newDataPoint(values, bits, common ? 1 : 0, address(0), msg.value);
    }

    /// @inheritdoc IFlavumState
    function depositERC20(int256[] calldata values, uint8 bits, address asset, uint256 amount)
        external
        nonReentrant
        returns (uint256 dpId)
    {
        if (asset == address(0)) revert FlavumStateZeroAddress("asset");
        // Credit what arrived: a fee-on-transfer token must not credit more than the contract holds.
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(asset).balanceOf(address(this)) - before;
        return _newDataPoint(values, bits, 0, asset, received);
    }

    function _newDataPoint(int256[] calldata values, uint8 bits, uint8 kind, address asset, uint256 amount)
        private
        returns (uint256 dpId)
    {
        _requireNoExodus();
        if (amount >> 128 != 0) revert FlavumAmountTooLarge(amount);
        uint256 maxValues = bits == 0 || bits > 64 ? 0 : PackedContent.maxValues(bits);
        if (values.length == 0 || values.length > maxValues) revert FlavumInvalidContent(values.length, bits, maxValues);
        uint256[] memory inputs = PackedContent.pack(values, bits);
        uint256 contentHash = PackedContent.hash(_contentHashers[inputs.length - 2], inputs);
        dpId = ++_dpCount;
        if (dpId >> _depth != 0) revert FlavumStateFull((1 << _depth) - 1);
        _dataPoints[dpId] = DataPoint({
            contentHash: contentHash,
            size: uint32(values.length),
            bits: bits,
            kind: kind,
            location: Location.Queued,
            fromToken: false,
            exitBatch: 0,
            exitSlot: 0
        });
        emit DataPointDeposited(dpId, msg.sender, kind, contentHash, bits, values, asset, amount);
        _queue(OP_DEPOSIT, kind, dpId, 0, msg.sender, asset, amount, contentHash);
    }

    /// @inheritdoc IFlavumState
    function depositToken(uint256 dpId) external payable nonReentrant {
        _requireNoExodus();
        if (msg.value >> 128 != 0) revert FlavumAmountTooLarge(msg.value);
        address holder = _token.ownerOf(dpId);
        if (holder != msg.sender) revert FlavumNotDataPointOwner(dpId, holder);
        DataPoint storage d = _dataPoints[dpId];
        _token.burn(dpId);
        d.location = Location.Queued;
        d.fromToken = true;
        emit DataPointRedeposited(dpId, msg.sender, msg.value);
        _queue(OP_DEPOSIT, 0, dpId, 0, msg.sender, address(0), msg.value, d.contentHash);
    }

    /// @inheritdoc IFlavumState
    function requestTransfer(uint256 dpId, address to) external {
        if (to == address(0)) revert FlavumStateZeroAddress("to");
        _requireInRollup(dpId, false);
        _queue(OP_TRANSFER, 0, dpId, 0, msg.sender, to, 0, 0);
    }

    /// @inheritdoc IFlavumState
    function requestExit(uint256 dpId) external {
        _requireInRollup(dpId, true);
        _queue(OP_EXIT, 0, dpId, 0, msg.sender, address(0), 0, 0);
    }

    /// @inheritdoc IFlavumState
    function requestTransferBySig(address owner, uint256 dpId, address to, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (to == address(0)) revert FlavumStateZeroAddress("to");
        _useSignature(owner, keccak256(abi.encode(TRANSFER_TYPEHASH, dpId, to, nonce, deadline)), nonce, deadline, signature);
        _requireInRollup(dpId, false);
        _queue(OP_TRANSFER, 0, dpId, 0, owner, to, 0, 0);
    }

    /// @inheritdoc IFlavumState
    function requestExitBySig(address owner, uint256 dpId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        _useSignature(owner, keccak256(abi.encode(EXIT_TYPEHASH, dpId, nonce, deadline)), nonce, deadline, signature);
        _requireInRollup(dpId, true);
        _queue(OP_EXIT, 0, dpId, 0, owner, address(0), 0, 0);
    }

    /// @inheritdoc IFlavumState
    function nonceUsed(address owner, uint256 nonce) external view returns (bool) {
        return _nonces[owner][nonce];
    }

    /// @dev Checks `owner`'s signature over the struct hash and spends its nonce (a replay reverts).
    function _useSignature(address owner, bytes32 structHash, uint256 nonce, uint256 deadline, bytes calldata signature) private {
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp > deadline) revert FlavumSignatureExpired(deadline);
        if (_nonces[owner][nonce]) revert FlavumNonceUsed(owner, nonce);
        if (!SignatureChecker.isValidSignatureNow(owner, _hashTypedDataV4(structHash), signature)) revert FlavumInvalidSignature(owner);
        _nonces[owner][nonce] = true;
        emit SignedRequestRelayed(owner, nonce, msg.sender);
    }

    /// @inheritdoc IFlavumState
    function requestInference(uint256 modelId, uint256 dpId, address callback)
        external
        payable
        returns (uint256 requestId)
    {
        DataPoint storage d = _requireInRollup(dpId, false);
        requestId = _rollup.openDataPointRequest{value: msg.value}(modelId, dpId, d.contentHash, msg.sender, callback);
        (uint256 size,, uint8 bits) = _registry.inputLayoutOf(modelId);
        if (size != d.size || bits != d.bits) revert FlavumLayoutMismatch(modelId, dpId, size, bits, d.size, d.bits);
        _queue(OP_INFER, 0, dpId, requestId, msg.sender, address(0), 0, 0);
    }

    /// @dev The data point is (or is about to be) in the rollup state; exits refuse common data points.
    function _requireInRollup(uint256 dpId, bool exiting) private view returns (DataPoint storage d) {
        _requireNoExodus();
        d = _dataPoints[dpId];
        if (d.location != Location.Queued && d.location != Location.Rollup) revert FlavumWrongLocation(dpId, d.location);
        // Common data points are nobody's to withdraw (the circuit refuses it too; this names it at once).
        if (exiting && d.kind == 1) revert FlavumNotDataPointOwner(dpId, address(0));
    }

    function _queue(
        uint8 opType,
        uint8 kind,
        uint256 dpId,
        uint256 requestId,
        address a,
        address b,
        uint256 amount,
        uint256 contentHash
    ) private {
        uint256 index = _opTail++;
        uint256[5] memory e;
        e[0] = uint256(opType) | (uint256(kind) << KIND_SHIFT) | (dpId << DP_SHIFT) | (requestId << REQUEST_SHIFT)
            | (block.number << BLOCK_SHIFT);
        e[1] = uint160(a);
        e[2] = uint160(b);
        e[3] = amount;
        e[4] = contentHash;
        _ops[index] = uint192(uint256(keccak256(abi.encodePacked(e)))) | (block.number << STORED_BLOCK_SHIFT);
        emit PriorityOpQueued(index, dpId, opType, e);
    }

    // ------------------------------------------------------------------ state batches

    /// @inheritdoc IFlavumState
    function submitStateBatch(StateBatch calldata batch, bytes calldata ops) external {
        if (!_rollup.isSequencer(msg.sender)) revert FlavumStateNotSequencer(msg.sender);
        _requireNoExodus();
        uint256 count = batch.count;
        uint256 opsPerBatch = 1 << _opsLog2;
        if (count == 0 || count > opsPerBatch) revert FlavumStateInvalidCount(count, opsPerBatch);
        if (ops.length != count * OP_BYTES) revert FlavumInvalidOpsLength(ops.length, count * OP_BYTES);
        if (batch.status >> count != 0) revert FlavumInvalidStatus(batch.status, count);
        uint256 first = _opHead;
        if (count > _opTail - first) revert FlavumNotEnoughOps(first, count, _opTail - first);
        uint256 stateBatch = _stateBatches;
        uint256[7] memory pub = _statement(batch, first, stateBatch, ops);
        if (!_verifier.verifyProof(batch.a, batch.b, batch.c, pub)) revert FlavumInvalidStateProof(stateBatch);
        _commit(pub, count, first, stateBatch, batch.status);
        _applyEffects(ops, count, first, stateBatch, batch.status);
        // Forced inclusion: only a full batch may leave an overdue operation behind.
        if (count < opsPerBatch) {
            (uint256 overdue, uint256 due) = _overdue();
            if (due != 0) revert FlavumOverdueOp(overdue, due);
        }
    }

    function _commit(uint256[7] memory pub, uint256 count, uint256 first, uint256 stateBatch, uint256 status) private {
        _root = pub[1];
        _exitRoots[stateBatch] = pub[2];
        _opHead = uint64(first + count);
        _stateBatches = uint64(stateBatch + 1);
        emit StateBatchSubmitted(stateBatch, first, count, status, pub[0], pub[1], pub[2]);
    }

    /**
     * @dev The seven public inputs the state proof must verify for. `opsCommit` (the prover's Poseidon
     * commitment to the operations it proves) is taken as given: it enters r, so the proven operations are
     * fixed before r is drawn, and h then ties them to the posted ones checked here against the queue.
     */
    function _statement(StateBatch calldata batch, uint256 first, uint256 stateBatch, bytes calldata ops)
        private
        view
        returns (uint256[7] memory pub)
    {
        uint256 count = batch.count;
        pub[0] = _root;
        pub[1] = batch.newRoot;
        pub[2] = batch.exitRoot;
        pub[3] = first | (count << 64) | (batch.status << 80) | (stateBatch << 144) | (_opsLog2 << 208);
        pub[4] = batch.opsCommit;
        pub[5] = uint256(keccak256(abi.encodePacked(block.chainid, address(this), pub[0], pub[1], pub[2], pub[3], pub[4], ops)))
            % FIELD_MODULUS;
        pub[6] = _bindOps(ops, count, first, pub[5]);
    }

    /// @dev Each posted operation must be the queued one at its position; h over all their elements.
    function _bindOps(bytes calldata ops, uint256 count, uint256 first, uint256 r) private view returns (uint256 acc) {
        uint256 p = FIELD_MODULUS;
        uint256 pw = 1;
        for (uint256 k; k < count; ++k) {
            bytes calldata op = ops[k * OP_BYTES:(k + 1) * OP_BYTES];
            if (uint192(uint256(keccak256(op))) != uint192(_ops[first + k])) revert FlavumOpMismatch(first + k);
            for (uint256 t; t < 5; ++t) {
                pw = mulmod(pw, r, p);
                acc = addmod(acc, mulmod(uint256(bytes32(op[32 * t:32 * t + 32])), pw, p), p);
            }
        }
    }

    /// @dev What L1 does with each proven operation: locations, exits, and inference authorisations.
    function _applyEffects(bytes calldata ops, uint256 count, uint256 first, uint256 stateBatch, uint256 status)
        private
    {
        for (uint256 k; k < count; ++k) {
            uint256 e0 = uint256(bytes32(ops[k * OP_BYTES:k * OP_BYTES + 32]));
            uint8 opType = uint8(e0);
            uint256 dpId = (e0 >> DP_SHIFT) & MASK64;
            bool valid = (status >> k) & 1 == 1;
            DataPoint storage d = _dataPoints[dpId];
            if (opType == OP_DEPOSIT) {
                d.location = Location.Rollup;
                d.fromToken = false;
            } else if (opType == OP_EXIT && valid) {
                d.location = Location.Exiting;
                d.exitBatch = uint64(stateBatch);
                d.exitSlot = uint8(k);
                emit DataPointExited(dpId, stateBatch, k);
            } else if (opType == OP_INFER) {
                uint256 requestId = (e0 >> REQUEST_SHIFT) & MASK64;
                if (valid) _rollup.releaseDataPointRequest(requestId);
                else _rollup.refuseDataPointRequest(requestId, "the requester may not use this data point");
            }
            if (!valid) emit PriorityOpRefused(first + k, dpId, opType);
        }
    }

    // ------------------------------------------------------------------ exits

    /// @inheritdoc IFlavumState
    function claim(
        uint256 stateBatch,
        uint256 slot,
        uint256 dpId,
        uint256 contentHash,
        address asset,
        uint256 balance,
        uint256[] calldata path
    ) external nonReentrant {
        uint256 root = _exitRoots[stateBatch];
        if (root == 0 || slot >> _opsLog2 != 0 || path.length != _opsLog2) revert FlavumExitNotProven(stateBatch, slot);
        uint256 key = (stateBatch << 6) | slot;
        if (_bit(_claimedBits, key)) revert FlavumAlreadyClaimed(stateBatch, slot);
        // The claimant is the owner in the proven leaf: someone else's exit does not hash to the root.
        uint256 node = _poseidon2.poseidon([dpId, _leaf(msg.sender, contentHash, asset, balance)]);
        if (dpId >= FIELD_MODULUS || _climb(node, slot, path) != root) revert FlavumExitNotProven(stateBatch, slot);
        _setBit(_claimedBits, key);
        _release(dpId, asset, balance);
        emit DataPointClaimed(dpId, msg.sender, asset, balance);
    }

    // ------------------------------------------------------------------ exodus

    /// @inheritdoc IFlavumState
    function activateExodus() external {
        _requireNoExodus();
        (uint256 overdue, uint256 due) = _overdue();
        if (due == 0) {
            uint256 head = _opHead;
            revert FlavumNothingOverdue(head, head < _opTail ? (_ops[head] >> STORED_BLOCK_SHIFT) + _deadline : 0);
        }
        _exodus = true;
        emit ExodusActivated(overdue, due, _root);
    }

    /// @inheritdoc IFlavumState
    function exodusWithdraw(
        uint256 dpId,
        uint256 contentHash,
        address asset,
        uint256 balance,
        uint256[] calldata siblings
    ) external nonReentrant {
        if (!_exodus) revert FlavumExodusInactive();
        if (dpId == 0 || dpId >> _depth != 0 || siblings.length != _depth) revert FlavumStateNotProven(dpId);
        if (_bit(_exodusBits, dpId)) revert FlavumAlreadyWithdrawn(dpId);
        if (_climb(_leaf(msg.sender, contentHash, asset, balance), dpId, siblings) != _root) {
            revert FlavumStateNotProven(dpId);
        }
        _setBit(_exodusBits, dpId);
        _release(dpId, asset, balance);
        emit ExodusWithdrawn(dpId, msg.sender, asset, balance);
    }

    /// @inheritdoc IFlavumState
    function exodusRefund(uint256 opIndex, uint256[5] calldata elements) external nonReentrant {
        if (!_exodus) revert FlavumExodusInactive();
        if (opIndex < _opHead || opIndex >= _opTail || _refunded[opIndex]) revert FlavumNothingToRefund(opIndex);
        if (uint192(uint256(keccak256(abi.encodePacked(elements)))) != uint192(_ops[opIndex])) {
            revert FlavumOpMismatch(opIndex);
        }
        uint8 opType = uint8(elements[0]);
        uint256 dpId = (elements[0] >> DP_SHIFT) & MASK64;
        address to = address(uint160(elements[1]));
        _refunded[opIndex] = true;
        if (opType == OP_DEPOSIT) {
            DataPoint storage d = _dataPoints[dpId];
            address asset = address(uint160(elements[2]));
            uint256 amount = elements[3];
            emit ExodusRefunded(opIndex, to, asset, amount);
            if (d.fromToken) {
                d.fromToken = false;
                d.location = Location.Token;
                _token.mint(to, dpId);
            } else {
                d.location = Location.None;
            }
            _pay(to, asset, amount);
        } else if (opType == OP_INFER) {
            emit ExodusRefunded(opIndex, to, address(0), 0);
            _rollup.refuseDataPointRequest((elements[0] >> REQUEST_SHIFT) & MASK64, "exodus");
        } else {
            revert FlavumNothingToRefund(opIndex);
        }
    }

    // ------------------------------------------------------------------ helpers

    function _requireNoExodus() private view {
        if (_exodus) revert FlavumExodusActive();
    }

    /// @dev The oldest unprocessed operation and its due block, if it is overdue (due 0 otherwise).
    function _overdue() private view returns (uint256 opIndex, uint256 due) {
        opIndex = _opHead;
        if (opIndex == _opTail) return (opIndex, 0);
        due = (_ops[opIndex] >> STORED_BLOCK_SHIFT) + _deadline;
        if (block.number < due) due = 0;
    }

    function _leaf(address owner, uint256 contentHash, address asset, uint256 balance) private view returns (uint256) {
        // The hasher reduces modulo p: refuse x + p posing as x.
        if (contentHash >= FIELD_MODULUS || balance >> 128 != 0) return 0;
        return _poseidon5.poseidon([uint256(uint160(owner)), 0, contentHash, uint256(uint160(asset)), balance]);
    }

    function _climb(uint256 node, uint256 index, uint256[] calldata path) private view returns (uint256) {
        for (uint256 k; k < path.length; ++k) {
            uint256 sibling = path[k];
            if (sibling >= FIELD_MODULUS) return 0;
            node = (index >> k) & 1 == 1 ? _poseidon2.poseidon([sibling, node]) : _poseidon2.poseidon([node, sibling]);
        }
        return node;
    }

    /// @dev A proven exit or exodus withdrawal: the data point becomes its owner's token, with its balance.
    function _release(uint256 dpId, address asset, uint256 balance) private {
        _dataPoints[dpId].location = Location.Token;
        _token.mint(msg.sender, dpId);
        _pay(msg.sender, asset, balance);
    }

    function _pay(address to, address asset, uint256 amount) private {
        if (amount == 0) return;
        if (asset == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(asset).safeTransfer(to, amount);
    }

    function _bit(mapping(uint256 => uint256) storage bits, uint256 key) private view returns (bool) {
        return (bits[key >> 8] >> (key & 0xff)) & 1 == 1;
    }

    function _setBit(mapping(uint256 => uint256) storage bits, uint256 key) private {
        bits[key >> 8] |= 1 << (key & 0xff);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IFlavumState
    function checkLive() external view {
        _requireNoExodus();
        (uint256 overdue, uint256 due) = _overdue();
        if (due != 0) revert FlavumOverdueOp(overdue, due);
    }

    /// @inheritdoc IFlavumState
    function dataPoint(uint256 dpId) external view returns (DataPoint memory) {
        return _dataPoints[dpId];
    }

    /// @inheritdoc IFlavumState
    function stateInfo()
        external
        view
        returns (uint256 root, uint256 stateBatches, uint256 opHead, uint256 opTail, bool exodus)
    {
        return (_root, _stateBatches, _opHead, _opTail, _exodus);
    }

    /// @inheritdoc IFlavumState
    function exitRootOf(uint256 stateBatch) external view returns (uint256) {
        return _exitRoots[stateBatch];
    }

    /// @inheritdoc IFlavumState
    function isClaimed(uint256 stateBatch, uint256 slot) external view returns (bool) {
        return _bit(_claimedBits, (stateBatch << 6) | slot);
    }

    /// @inheritdoc IFlavumState
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IFlavumState
    function parameters() external view returns (uint256 stateDepth, uint256 opsPerBatch, uint256 deadline) {
        return (_depth, 1 << _opsLog2, _deadline);
    }
}
