// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IFlavumRollup} from "../interfaces/IFlavumRollup.sol";
import {IFlavumInference} from "../interfaces/IFlavumInference.sol";
import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IPoseidon2, IPoseidon4} from "../interfaces/IPoseidon.sol";

/**
 * @title FlavumRollup
 * @notice Settles proven inference batches (see {IFlavumRollup}) and serves their results to other
 * contracts (see {IFlavumInference}). The admin (`DEFAULT_ADMIN_ROLE`) grants, revokes and rotates
 * `SEQUENCER_ROLE`, sets the request fee and withdraws fees.
 */
contract FlavumRollup is AccessControl, IFlavumRollup, IFlavumInference {
    /// @notice The role allowed to submit batches.
    bytes32 public constant SEQUENCER_ROLE = keccak256("SEQUENCER_ROLE");

    /// @dev BN254 scalar field modulus: the Poseidon hashers reduce inputs modulo it.
    uint256 private constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Depth of the trace tree.
    uint256 private constant TREE_LEAVES = 1 << 20;
    /// @dev The deepest batch subtree (256 leaves).
    uint256 private constant MAX_PATH = 8;
    /// @dev Meta packing, as in src/rollup/layout.ts.
    uint256 private constant META_BATCH_SHIFT = 64;
    uint256 private constant META_FIRST_LEAF_SHIFT = 128;
    uint256 private constant META_COUNT_SHIFT = 168;
    uint256 private constant CTX_CHAIN_SHIFT = 160;
    /// @dev Gas given to a consumer's `onInference`.
    uint256 private constant CALLBACK_GAS_LIMIT = 200_000;
    /// @dev Gas kept back for the bookkeeping around the callback.
    uint256 private constant CALLBACK_GAS_RESERVE = 10_000;

    IModelRegistry private immutable _registry;
    IPoseidon2 private immutable _poseidon2;
    IPoseidon4 private immutable _poseidon4;

    uint256 private _stateRoot;
    uint64 private _nextLeaf;
    uint64 private _batchCount;
    /// @dev Shares the counters' slot and is never zero, so the first batch updates that slot
    /// (5k gas) instead of creating it (22k); also where indexers start scanning for events.
    uint64 private _deployBlock;
    mapping(uint256 batchId => uint256 batchRoot) private _batchRoots;

    uint256 private _requestFee;
    uint256 private _requestCount;
    mapping(uint256 requestId => InferenceRequest) private _requests;

    /**
     * @param registry_ the model registry
     * @param poseidon2_ the circomlibjs Poseidon hasher of two inputs
     * @param poseidon4_ the circomlibjs Poseidon hasher of four inputs
     * @param admin the holder of `DEFAULT_ADMIN_ROLE`
     * @param initialRoot the root of the empty depth-20 trace tree (zero leaves)
     */
    constructor(address registry_, address poseidon2_, address poseidon4_, address admin, uint256 initialRoot) {
        if (block.chainid > type(uint64).max) revert FlavumChainIdTooLarge(block.chainid);
        if (registry_ == address(0)) revert FlavumZeroAddress("registry");
        if (poseidon2_ == address(0)) revert FlavumZeroAddress("poseidon2");
        if (poseidon4_ == address(0)) revert FlavumZeroAddress("poseidon4");
        if (admin == address(0)) revert FlavumZeroAddress("admin");
        if (initialRoot >= FIELD_MODULUS) revert FlavumNotFieldElement(initialRoot);
        _registry = IModelRegistry(registry_);
        _poseidon2 = IPoseidon2(poseidon2_);
        _poseidon4 = IPoseidon4(poseidon4_);
        _stateRoot = initialRoot;
        _deployBlock = uint64(block.number);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IFlavumRollup
    function submitBatch(
        uint256 modelId,
        uint16 batchSize,
        uint16 count,
        uint256 newRoot,
        uint256 batchRoot_,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        bytes calldata /* trace: data availability only */
    ) external onlyRole(SEQUENCER_ROLE) {
        if (count == 0 || count > batchSize) revert FlavumInvalidCount(count, batchSize);
        if (modelId > type(uint64).max) revert FlavumModelIdTooLarge(modelId);

        uint256 batchId = _batchCount;
        uint256 firstLeaf = ((uint256(_nextLeaf) + batchSize - 1) / batchSize) * batchSize;
        if (firstLeaf + batchSize > TREE_LEAVES) revert FlavumTreeFull(firstLeaf, batchSize);

        uint256[5] memory pub = _publicInputs(modelId, batchId, firstLeaf, count, newRoot, batchRoot_);
        _verifyBatch(modelId, batchSize, batchId, a, b, c, pub);

        _settle(modelId, batchSize, count, batchId, firstLeaf, pub);
    }

    /// @inheritdoc IFlavumRollup
    function rotateSequencer(address previous, address next) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!hasRole(SEQUENCER_ROLE, previous)) revert FlavumNotSequencer(previous);
        if (next == address(0)) revert FlavumZeroAddress("sequencer");
        _revokeRole(SEQUENCER_ROLE, previous);
        _grantRole(SEQUENCER_ROLE, next);
        emit SequencerRotated(previous, next);
    }

    /// @inheritdoc IFlavumRollup
    function deployBlock() external view returns (uint64) {
        return _deployBlock;
    }

    /// @inheritdoc IFlavumRollup
    function stateRoot() external view returns (uint256) {
        return _stateRoot;
    }

    /// @inheritdoc IFlavumRollup
    function nextLeaf() external view returns (uint64) {
        return _nextLeaf;
    }

    /// @inheritdoc IFlavumRollup
    function batchCount() external view returns (uint64) {
        return _batchCount;
    }

    /// @inheritdoc IFlavumRollup
    function batchRoot(uint256 batchId) external view returns (uint256) {
        return _batchRoots[batchId];
    }

    /// @inheritdoc IFlavumRollup
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IFlavumRollup
    function poseidon2() external view returns (address) {
        return address(_poseidon2);
    }

    /// @inheritdoc IFlavumRollup
    function poseidon4() external view returns (address) {
        return address(_poseidon4);
    }

    /// @dev `[oldRoot, newRoot, batchRoot, ctx, meta]`, packed as in src/rollup/layout.ts.
    function _publicInputs(
        uint256 modelId,
        uint256 batchId,
        uint256 firstLeaf,
        uint16 count,
        uint256 newRoot,
        uint256 batchRoot_
    ) private view returns (uint256[5] memory) {
        return [
            _stateRoot,
            newRoot,
            batchRoot_,
            uint256(uint160(address(this))) | (block.chainid << CTX_CHAIN_SHIFT),
            modelId | (batchId << META_BATCH_SHIFT) | (firstLeaf << META_FIRST_LEAF_SHIFT)
                | (uint256(count) << META_COUNT_SHIFT)
        ];
    }

    /// @dev Reverts unless the model's verifier for `batchSize` accepts the proof of `pub`.
    function _verifyBatch(
        uint256 modelId,
        uint16 batchSize,
        uint256 batchId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[5] memory pub
    ) private view {
        address verifier = _registry.verifierOf(modelId, batchSize);
        if (!IGroth16Verifier(verifier).verifyProof(a, b, c, pub)) {
            revert FlavumInvalidBatchProof(modelId, batchId, verifier);
        }
    }

    /// @dev Records batch `batchId`: two updated slots (root; next leaf and count) and one new (batch root).
    function _settle(
        uint256 modelId,
        uint16 batchSize,
        uint16 count,
        uint256 batchId,
        uint256 firstLeaf,
        uint256[5] memory pub
    ) private {
        _stateRoot = pub[1];
        _nextLeaf = uint64(firstLeaf + batchSize);
        _batchCount = uint64(batchId + 1);
        _batchRoots[batchId] = pub[2];
        emit BatchSubmitted(batchId, modelId, firstLeaf, count, batchSize, pub[0], pub[1], pub[2]);
    }

    // ------------------------------------------------------------------ read API

    /// @inheritdoc IFlavumInference
    function verifyInference(uint256 batchId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        public
        view
        returns (bool)
    {
        if (batchId >= _batchCount || path.length > MAX_PATH || index >> path.length != 0) return false;
        // The hashers reduce modulo the field: reject x + p posing as x (it would change the label bits).
        if (
            entry.modelId >= FIELD_MODULUS || entry.requestId >= FIELD_MODULUS || entry.inputHash >= FIELD_MODULUS
                || entry.outputWord >= FIELD_MODULUS
        ) return false;

        uint256 node = _poseidon4.poseidon([entry.modelId, entry.requestId, entry.inputHash, entry.outputWord]);
        for (uint256 k; k < path.length; ++k) {
            uint256 sibling = path[k];
            if (sibling >= FIELD_MODULUS) return false;
            node = (index >> k) & 1 == 1 ? _poseidon2.poseidon([sibling, node]) : _poseidon2.poseidon([node, sibling]);
        }
        return node == _batchRoots[batchId];
    }

    /// @inheritdoc IFlavumInference
    function decodeOutput(uint256 modelId, uint256 outputWord)
        external
        view
        returns (uint8 label, int256[] memory outputs)
    {
        (uint8 bits, uint8 count,) = _registry.outputLayoutOf(modelId);
        label = uint8(outputWord);
        outputs = new int256[](count);
        uint256 mask = (1 << bits) - 1;
        int256 offset = int256(1 << (bits - 1));
        for (uint256 i; i < count; ++i) {
            outputs[i] = int256((outputWord >> (8 + uint256(bits) * i)) & mask) - offset;
        }
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IFlavumInference
    function estimateFee(uint256 /* modelId */ ) external view returns (uint256) {
        return _requestFee;
    }

    /// @inheritdoc IFlavumInference
    function requestInference(uint256 modelId, uint256 inputHash, bytes calldata input, address callback)
        external
        payable
        returns (uint256 requestId)
    {
        if (msg.value < _requestFee) revert FlavumInsufficientFee(msg.value, _requestFee);
        if (modelId > type(uint64).max || !_registry.isRegistered(modelId)) revert FlavumUnknownRequestModel(modelId);
        if (inputHash >= FIELD_MODULUS) revert FlavumNotFieldElement(inputHash);

        requestId = ++_requestCount;
        _requests[requestId] = InferenceRequest({
            inputHash: inputHash,
            requester: msg.sender,
            modelId: uint64(modelId),
            fulfilled: false,
            callback: callback
        });
        emit InferenceRequested(requestId, modelId, inputHash, input, callback);
    }

    /// @inheritdoc IFlavumInference
    function fulfill(
        uint256 requestId,
        uint256 batchId,
        InferenceEntry calldata entry,
        uint256 index,
        uint256[] calldata path
    ) external {
        InferenceRequest storage request = _requests[requestId];
        if (request.requester == address(0)) revert FlavumUnknownRequest(requestId);
        if (request.fulfilled) revert FlavumAlreadyFulfilled(requestId);
        if (entry.requestId != requestId || entry.modelId != request.modelId || entry.inputHash != request.inputHash) {
            revert FlavumEntryMismatch(requestId);
        }
        if (!verifyInference(batchId, entry, index, path)) revert FlavumInclusionNotProven(requestId, batchId);

        request.fulfilled = true;
        emit InferenceFulfilled(requestId, batchId, entry.modelId, entry.outputWord);

        address callback = request.callback;
        if (callback == address(0)) return;
        // A caller must not starve the callback (63/64 rule) to mark a request fulfilled with it failing.
        uint256 needed = (CALLBACK_GAS_LIMIT * 64) / 63 + CALLBACK_GAS_RESERVE;
        if (gasleft() < needed) revert FlavumInsufficientCallbackGas(gasleft(), needed);
        if (callback.code.length == 0) {
            emit CallbackFailed(requestId, callback);
            return;
        }
        try IFlavumConsumer(callback).onInference{gas: CALLBACK_GAS_LIMIT}(requestId, entry.modelId, entry.outputWord) {}
        catch {
            emit CallbackFailed(requestId, callback);
        }
    }

    /// @inheritdoc IFlavumInference
    function setRequestFee(uint256 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit RequestFeeSet(_requestFee, fee);
        _requestFee = fee;
    }

    /// @inheritdoc IFlavumInference
    function withdrawFees(address payable to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert FlavumZeroAddress("to");
        uint256 amount = address(this).balance;
        emit FeesWithdrawn(to, amount);
        Address.sendValue(to, amount);
    }

    /// @inheritdoc IFlavumInference
    function requestOf(uint256 requestId) external view returns (InferenceRequest memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IFlavumInference
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IFlavumInference
    function callbackGasLimit() external pure returns (uint256) {
        return CALLBACK_GAS_LIMIT;
    }
}
