// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IFlavumRollup} from "../interfaces/IFlavumRollup.sol";
import {IFlavumInference} from "../interfaces/IFlavumInference.sol";
import {IFlavumConsumer} from "../interfaces/IFlavumConsumer.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {ICommittedBatchVerifier} from "../interfaces/ICommittedBatchVerifier.sol";
import {IPoseidon2, IPoseidon4} from "../interfaces/IPoseidon.sol";
import {IFlavumDataPointRequests} from "../interfaces/IFlavumDataPointRequests.sol";
import {IFlavumState} from "../interfaces/IFlavumState.sol";
import {DacAttestation} from "../libraries/DacAttestation.sol";

/**
 * @title FlavumRollup
 * @notice Settles proven inference batches (see {IFlavumRollup}) and serves their results to other
 * contracts (see {IFlavumInference}). The admin (`DEFAULT_ADMIN_ROLE`) grants, revokes and rotates
 * `SEQUENCER_ROLE` and sets the minimum request fee; it cannot touch fees held for requests.
 */
contract FlavumRollup is AccessControl, IFlavumRollup, IFlavumInference, IFlavumDataPointRequests {
    /// @notice The role allowed to submit batches and reject unprovable requests.
    bytes32 public constant SEQUENCER_ROLE = keccak256("SEQUENCER_ROLE");

    /// @dev BN254 scalar field modulus: public inputs, Poseidon and the trace binding live in this field.
    uint256 private constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Leaves of each model's trace tree.
    uint256 private constant TREE_LEAVES = 1 << 20;
    /// @dev The deepest batch subtree (256 leaves).
    uint256 private constant MAX_PATH = 8;
    /// @dev Meta packing, as in src/protocol/batch.ts.
    uint256 private constant META_BATCH_SHIFT = 64;
    uint256 private constant META_FIRST_LEAF_SHIFT = 128;
    uint256 private constant META_COUNT_SHIFT = 168;
    uint256 private constant META_LAYOUT_SHIFT = 184;
    uint256 private constant META_LEVELS_SHIFT = 201;
    /// @dev Closed (cancelled or rejected) requests one batch may step over; more need `advanceQueue`.
    uint256 private constant MAX_SKIP = 64;
    /// @dev Request ids from here up are the sequencer's off-chain requests.
    uint256 private constant OFFCHAIN_REQUEST_BASE = 1 << 63;
    /// @dev An on-chain request id is `chainTag << 47 | n`: each chain of the domain numbers its own requests.
    uint256 private constant CHAIN_TAG_SHIFT = 47;
    /// @dev Trace entry: requestId (8) ‖ inputHash (32) ‖ outputWord (w bytes).
    uint256 private constant ENTRY_FIXED_BYTES = 40;
    /// @dev Gas given to a consumer's `onInference`.
    uint256 private constant CALLBACK_GAS_LIMIT = 200_000;
    /// @dev Gas kept back for the bookkeeping around the callback.
    uint256 private constant CALLBACK_GAS_RESERVE = 10_000;
    /// @dev The registry's layout bit of a published model; meta's layout field holds only the 17 below it.
    uint256 private constant WEIGHTS_BOUND = 1 << 17;
    /// @dev Basis points of a whole fee.
    uint256 private constant MAX_BPS = 10_000;

    /// @dev Everything about a model but its root, in one slot: its tree's next leaf and rollovers, its
    /// batches, and its queue of on-chain requests (positions `head` up to `tail` of `_queued`).
    struct ModelTrace {
        uint32 nextLeaf;
        uint32 epoch;
        uint64 batches;
        uint64 head;
        uint64 tail;
    }

    /// @dev A batch being settled: its verifier, id, first leaf and its model's trace state before it;
    /// for a published model (`bound`), the contributors' basis points of its fees.
    struct Slot {
        address verifier;
        uint256 batchId;
        uint256 firstLeaf;
        uint256 onchain;
        ModelTrace trace;
        bool bound;
        uint16 contributorBps;
    }

    /// @dev Where batch traces are posted (fixed per deployment), and for IPFS the committee that attests them.
    TraceStore private immutable _traceStore;
    bytes32 private immutable _dacCommittee;
    uint256 private immutable _dacThreshold;
    bytes32 private immutable _dacDomain;

    IModelRegistry private immutable _registry;
    IPoseidon2 private immutable _poseidon2;
    IPoseidon4 private immutable _poseidon4;
    uint256 private immutable _emptyRoot;
    uint64 private immutable _inclusionDelay;
    /// @dev Where indexers start scanning for events.
    uint64 private immutable _deployBlock;
    /// @dev The rollup's identity on every chain it settles on: what the proofs bind (r), instead of a chain.
    uint256 private immutable _domain;
    /// @dev This chain's tag in the domain: the high bits of its on-chain request ids.
    uint16 private immutable _chainTag;

    mapping(uint256 modelId => uint256) private _roots;
    mapping(uint256 modelId => ModelTrace) private _traces;
    mapping(uint256 batchId => bytes32) private _batchCommitments;

    uint256 private _requestFee;
    uint256 private _requestCount;
    mapping(uint256 requestId => InferenceRequest) private _requests;
    mapping(uint256 modelId => mapping(uint256 position => uint256 requestId)) private _queued;
    mapping(address sequencer => uint256) private _earnings;

    /// @dev The rollup state (data points), attached once by the admin; zero before.
    IFlavumState private _state;
    /// @dev How many batches the settlement history covers. Packed beside `_state`, which every batch reads
    /// first: counting a batch then writes an already warm slot.
    uint64 private _historyBatches;
    mapping(uint256 requestId => uint256 dpId) private _requestDataPoint;
    /// @dev Delivered results on data points: the output word and the batch that proved it.
    mapping(uint256 dpId => mapping(uint256 modelId => uint256[2])) private _dataPointResults;
    /// @dev Who settled each blob or IPFS batch: its on-chain requests' fees go there when they are fulfilled.
    mapping(uint256 batchId => address) private _batchSubmitters;

    /// @dev The contract that pays published models' contributors, attached once by the admin; zero before.
    address private _revenue;
    /// @dev Contributors' cut of published models' fees, until the revenue contract withdraws it.
    mapping(uint256 modelId => uint256) private _modelRevenue;

    /// @dev The settlement history's root over every batch, in order (src/protocol/history.ts); its length is
    /// `_historyBatches`.
    uint256 private _history;
    /// @dev The (chain, contract, tag) triples that settle this domain, as the admin registered them.
    Settlement[] private _settlements;

    /**
     * @param registry_ the model registry
     * @param poseidon2_ the circomlibjs Poseidon hasher of two inputs
     * @param poseidon4_ the circomlibjs Poseidon hasher of four inputs
     * @param admin the holder of `DEFAULT_ADMIN_ROLE`
     * @param emptyRoot_ the root of the empty depth-20 trace tree (zero leaves)
     * @param inclusionDelay_ blocks after which a pending on-chain request must be included (or may be cancelled)
     * @param store where traces are posted: calldata, blobs or IPFS with a data-availability committee
     * @param chain the rollup's domain (nonzero, < the BN254 scalar field) and this chain's tag in it
     */
    constructor(
        address registry_,
        address poseidon2_,
        address poseidon4_,
        address admin,
        uint256 emptyRoot_,
        uint64 inclusionDelay_,
        TraceStoreConfig memory store,
        ChainConfig memory chain
    ) {
        if (chain.domain == 0 || chain.domain >= FIELD_MODULUS) revert FlavumInvalidDomain(chain.domain);
        _domain = chain.domain;
        _chainTag = chain.chainTag;
        if (registry_ == address(0)) revert FlavumZeroAddress("registry");
        if (poseidon2_ == address(0)) revert FlavumZeroAddress("poseidon2");
        if (poseidon4_ == address(0)) revert FlavumZeroAddress("poseidon4");
        if (admin == address(0)) revert FlavumZeroAddress("admin");
        if (emptyRoot_ >= FIELD_MODULUS) revert FlavumNotFieldElement(emptyRoot_);
        _registry = IModelRegistry(registry_);
        _poseidon2 = IPoseidon2(poseidon2_);
        _poseidon4 = IPoseidon4(poseidon4_);
        _emptyRoot = emptyRoot_;
        _inclusionDelay = inclusionDelay_;
        _deployBlock = uint64(block.number);
        _traceStore = store.mode;
        if (store.mode == TraceStore.Ipfs) {
            if (store.threshold == 0 || store.threshold > store.committee.length) {
                revert DacAttestation.FlavumDacBadThreshold(store.threshold, store.committee.length);
            }
            for (uint256 i = 1; i < store.committee.length; ++i) {
                if (store.committee[i] <= store.committee[i - 1]) revert DacAttestation.FlavumDacSignersNotSorted(i);
            }
        } else if (store.committee.length != 0 || store.threshold != 0) {
            revert FlavumWrongTraceStore(store.mode);
        }
        _dacCommittee = keccak256(abi.encode(store.committee));
        emit TraceStoreConfigured(store.mode, store.committee, store.threshold);
        _dacThreshold = store.threshold;
        _dacDomain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("FlavumDAC"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
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
        bytes calldata trace
    ) external onlyRole(SEQUENCER_ROLE) {
        (Slot memory slot, uint256[6] memory pub) = _slot(modelId, batchSize, count, newRoot, batchRoot_);
        pub[4] = uint256(keccak256(abi.encodePacked(_domain, pub[0], pub[1], pub[2], pub[3], trace)))
            % FIELD_MODULUS;
        (pub[5], slot.onchain) = _bindTrace(trace, count, pub[4]);
        _verify(modelId, slot, a, b, c, pub);
        _serveRequests(modelId, batchSize, slot, trace);
        _record(modelId, batchSize, count, slot, pub);
    }

    /// @inheritdoc IFlavumRollup
    function submitBatchBlob(PostedBatch calldata batch) external onlyRole(SEQUENCER_ROLE) {
        if (_traceStore != TraceStore.Blob) revert FlavumWrongTraceStore(_traceStore);
        bytes32 versionedHash = blobhash(0);
        if (versionedHash == 0) revert FlavumNoBlob();
        _submitPosted(batch, versionedHash);
    }

    /// @inheritdoc IFlavumRollup
    function submitBatchIpfs(
        PostedBatch calldata batch,
        bytes32 cidDigest,
        address[] calldata committee,
        bytes calldata signatures
    ) external onlyRole(SEQUENCER_ROLE) {
        if (_traceStore != TraceStore.Ipfs) revert FlavumWrongTraceStore(_traceStore);
        if (keccak256(abi.encode(committee)) != _dacCommittee) revert FlavumWrongCommittee();
        uint256 batchId = (batch.modelId << 64) | _traces[batch.modelId].batches;
        DacAttestation.verify(_dacDomain, batchId, cidDigest, signatures, committee, _dacThreshold);
        _submitPosted(batch, cidDigest);
    }

    /**
     * @dev A batch whose trace is posted elsewhere, committed to by `data` (a blob's versioned hash, a CID's
     * digest): r binds that commitment, h is the sequencer's and is recorded for anyone to check against the
     * posted entries. On-chain requests are not served here: they are fulfilled with their inclusion proof
     * (`fulfillFromBatch`), and such a batch may not leave an overdue one behind.
     */
    function _submitPosted(PostedBatch calldata p, bytes32 data) private {
        uint256 modelId = p.modelId;
        (Slot memory slot, uint256[6] memory pub) = _slot(modelId, p.batchSize, p.count, p.newRoot, p.batchRoot);
        pub[4] = uint256(keccak256(abi.encodePacked(_domain, pub[0], pub[1], pub[2], pub[3], data)))
            % FIELD_MODULUS;
        pub[5] = p.h;
        _verify(modelId, slot, p.a, p.b, p.c, pub);
        uint256 next = _skipClosed(modelId, slot.trace);
        if (next != 0) {
            uint256 due = uint256(_requests[next].createdBlock) + _inclusionDelay;
            if (block.number >= due) revert FlavumOverdueRequest(modelId, next, due);
        }
        _batchSubmitters[slot.batchId] = msg.sender;
        _record(modelId, p.batchSize, p.count, slot, pub);
        emit BatchDataPosted(slot.batchId, _traceStore, data, p.h);
    }

    /// @dev Where the batch lands and its first four public inputs (the roots and meta).
    function _slot(uint256 modelId, uint16 batchSize, uint16 count, uint256 newRoot, uint256 batchRoot_)
        private
        returns (Slot memory slot, uint256[6] memory pub)
    {
        if (count == 0 || count > batchSize) revert FlavumInvalidCount(count, batchSize);
        if (modelId > type(uint64).max) revert FlavumModelIdTooLarge(modelId);
        // No inference batch settles in exodus or while a state operation is overdue.
        if (address(_state) != address(0)) _state.checkLive();
        uint256 layout;
        (slot.verifier, layout) = _registry.servingOf(modelId, batchSize);
        if (layout & WEIGHTS_BOUND != 0) {
            // The flag picks the verifier's arity; in meta it would spill into the levels field.
            slot.bound = true;
            layout ^= WEIGHTS_BOUND;
        }
        slot.trace = _traces[modelId];
        slot.batchId = (modelId << 64) | slot.trace.batches;
        uint256 root = _roots[modelId];
        pub[0] = root == 0 ? _emptyRoot : root;
        slot.firstLeaf = ((uint256(slot.trace.nextLeaf) + batchSize - 1) / batchSize) * batchSize;
        if (slot.firstLeaf + batchSize > TREE_LEAVES) {
            // A full tree starts over: reads check batch commitments, so earlier results stay readable.
            slot.firstLeaf = 0;
            pub[0] = _emptyRoot;
            emit TraceTreeRolledOver(modelId, slot.trace.batches, ++slot.trace.epoch);
        }
        pub[1] = newRoot;
        pub[2] = batchRoot_;
        pub[3] = modelId | (uint256(slot.trace.batches) << META_BATCH_SHIFT) | (slot.firstLeaf << META_FIRST_LEAF_SHIFT)
            | (uint256(count) << META_COUNT_SHIFT) | (layout << META_LAYOUT_SHIFT)
            | (_log2(batchSize) << META_LEVELS_SHIFT);
    }

    /**
     * @dev Checks the batch proof. A published model's circuit also proves its private weights hash to the
     * registry's weightsHash, a seventh public input; fetching it brings the contributors' basis points
     * along, so the fee split costs no further call. Other models take no extra call.
     */
    function _verify(
        uint256 modelId,
        Slot memory slot,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[6] memory pub
    ) private view {
        bool ok;
        if (!slot.bound) {
            ok = IGroth16Verifier(slot.verifier).verifyProof(a, b, c, pub);
        } else {
            bytes32 weightsHash;
            (weightsHash, slot.contributorBps) = _registry.weightsBindingOf(modelId);
            ok = ICommittedBatchVerifier(slot.verifier).verifyProof(
                a, b, c, [pub[0], pub[1], pub[2], pub[3], pub[4], pub[5], uint256(weightsHash)]
            );
        }
        if (!ok) revert FlavumInvalidBatchProof(modelId, slot.batchId, slot.verifier);
    }

    /// @dev Two updated slots (the model's root; its counters and queue), one new (the batch commitment).
    function _record(uint256 modelId, uint16 batchSize, uint16 count, Slot memory slot, uint256[6] memory pub) private {
        _roots[modelId] = pub[1];
        slot.trace.nextLeaf = uint32(slot.firstLeaf + batchSize);
        slot.trace.batches += 1;
        _traces[modelId] = slot.trace;
        _batchCommitments[slot.batchId] = keccak256(abi.encode(pub[2], modelId, _log2(batchSize)));
        uint256 batchHash = uint256(keccak256(abi.encode(slot.batchId, pub[0], pub[1], pub[2]))) % FIELD_MODULUS;
        _history = uint256(keccak256(abi.encode(_history, batchHash))) % FIELD_MODULUS;
        ++_historyBatches;
        emit BatchSubmitted(
            slot.batchId, modelId, slot.trace.batches - 1, slot.firstLeaf, count, batchSize, pub[0], pub[1], pub[2]
        );
    }

    /**
     * @dev Checks the trace's framing and field elements and returns h = sum_j e_j r^(j+1) mod p over
     * (requestId, inputHash, outputWord) of each entry: reverse Horner, from the last element.
     */
    function _bindTrace(bytes calldata trace, uint16 count, uint256 r)
        private
        view
        returns (uint256 acc, uint256 onchain)
    {
        if (trace.length == 0) revert FlavumInvalidTraceWord(0);
        uint256 size;
        uint256 wordShift;
        {
            // Scoped: the framing's locals leave the stack to the loop's (p and the tag).
            uint256 w = uint8(trace[0]);
            if (w == 0 || w > 31) revert FlavumInvalidTraceWord(w);
            size = ENTRY_FIXED_BYTES + w;
            uint256 expected = 1 + uint256(count) * size;
            if (trace.length != expected) revert FlavumInvalidTraceLength(trace.length, expected, count);
            wordShift = 256 - 8 * w;
        }
        // The modulus from a local: the loop reads it seven times per entry, cheaper than the constant.
        uint256 p = FIELD_MODULUS;
        uint256 bad = type(uint256).max;
        uint256 tag = _chainTag;
        // Fixed-width big-endian fields read straight from calldata: the length check above keeps every
        // entry inside the trace, and a word read past its w bytes is shifted away.
        // The same pass counts the on-chain requests, so a batch of off-chain ones never walks the trace again.
        assembly ("memory-safe") {
            let first := add(trace.offset, 1)
            for { let o := add(first, mul(sub(count, 1), size)) } iszero(lt(o, first)) { o := sub(o, size) } {
                let inputHash := calldataload(add(o, 8))
                if iszero(lt(inputHash, p)) {
                    bad := div(sub(o, first), size)
                    break
                }
                let requestId := shr(192, calldataload(o))
                // This chain's own requests only (off-chain ids have bit 63 set, so they never match a tag).
                onchain := add(onchain, eq(shr(CHAIN_TAG_SHIFT, requestId), tag))
                acc := mulmod(addmod(acc, shr(wordShift, calldataload(add(o, 40))), p), r, p)
                acc := mulmod(addmod(acc, inputHash, p), r, p)
                acc := mulmod(addmod(acc, requestId, p), r, p)
            }
        }
        if (bad != type(uint256).max) {
            uint256 o = 1 + bad * size;
            revert FlavumTraceNotFieldElement(bad, uint256(bytes32(trace[o + 8:o + 40])));
        }
    }

    /**
     * @dev The batch's on-chain requests must be the model's oldest pending ones, in order, with the
     * requester's input commitment; each becomes Included and pays its fee to the sender. Then forced
     * inclusion: a request left pending past its due block makes the batch revert unless the batch is full
     * of on-chain requests.
     */
    function _serveRequests(uint256 modelId, uint16 batchSize, Slot memory slot, bytes calldata trace)
        private
    {
        ModelTrace memory q = slot.trace;
        uint256 batchId = slot.batchId;
        uint256 size = ENTRY_FIXED_BYTES + uint8(trace[0]);
        uint256 served;
        uint256 earned;
        // Stops after the last on-chain entry (counted by _bindTrace): off-chain entries cost nothing here.
        for (uint256 i; served < slot.onchain; ++i) {
            uint256 o = 1 + i * size;
            uint256 requestId;
            assembly ("memory-safe") {
                requestId := shr(192, calldataload(add(trace.offset, o)))
            }
            // Off-chain requests and other chains' requests are plain trace entries here.
            if (requestId >> CHAIN_TAG_SHIFT != _chainTag) continue;
            uint256 expected = _skipClosed(modelId, q);
            // 0 is "none pending", not a request: matching it would push the head past the tail.
            if (requestId != expected || expected == 0) revert FlavumRequestOutOfOrder(modelId, i, requestId, expected);
            InferenceRequest storage request = _requests[requestId];
            uint256 inputHash = uint256(bytes32(trace[o + 8:o + 40]));
            if (inputHash != request.inputHash) revert FlavumRequestInputMismatch(i, requestId, inputHash);
            request.status = RequestStatus.Included;
            request.batchId = uint128(batchId);
            uint256 fee = request.fee;
            earned += fee;
            ++q.head;
            ++served;
            emit InferenceIncluded(requestId, batchId, msg.sender, fee);
        }
        if (served < batchSize) {
            uint256 next = _skipClosed(modelId, q);
            if (next != 0) {
                uint256 due = uint256(_requests[next].createdBlock) + _inclusionDelay;
                if (block.number >= due) revert FlavumOverdueRequest(modelId, next, due);
            }
        }
        if (earned != 0) {
            // One cut on the batch's sum, rounded down: the sequencer keeps the remainder.
            if (slot.contributorBps != 0) earned -= _accrue(modelId, (earned * slot.contributorBps) / MAX_BPS);
            _earnings[msg.sender] += earned;
        }
    }

    /// @dev Credits `cut` of a published model's fees to its contributors; returns it.
    function _accrue(uint256 modelId, uint256 cut) private returns (uint256) {
        if (cut != 0) {
            _modelRevenue[modelId] += cut;
            emit ModelRevenueAccrued(modelId, cut);
        }
        return cut;
    }

    /**
     * @dev Moves `q.head` past cancelled and rejected requests; returns the first pending one (0 if none).
     * Steps over at most MAX_SKIP, so requests made and cancelled by the thousand cannot push a batch past
     * the block gas limit; a longer run of them waits for `advanceQueue`.
     */
    function _skipClosed(uint256 modelId, ModelTrace memory q) private view returns (uint256) {
        for (uint256 skipped; q.head < q.tail; ++skipped) {
            uint256 requestId = _queued[modelId][q.head];
            if (_requests[requestId].status == RequestStatus.Pending) return requestId;
            if (skipped == MAX_SKIP) revert FlavumQueueBacklog(modelId, q.head);
            ++q.head;
        }
        return 0;
    }

    /// @inheritdoc IFlavumRollup
    function advanceQueue(uint256 modelId, uint256 maxSteps) external {
        ModelTrace storage t = _traces[modelId];
        uint64 head = t.head;
        uint64 tail = t.tail;
        for (uint256 k; k < maxSteps && head < tail; ++k) {
            if (_requests[_queued[modelId][head]].status == RequestStatus.Pending) break;
            ++head;
        }
        emit QueueAdvanced(modelId, t.head, head);
        t.head = head;
    }

    function _log2(uint256 n) private pure returns (uint256 k) {
        while ((1 << k) < n) ++k;
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
    function modelTrace(uint256 modelId)
        external
        view
        returns (uint256 root, uint64 nextLeaf, uint64 batches, uint64 epoch)
    {
        ModelTrace memory t = _traces[modelId];
        uint256 r = _roots[modelId];
        return (r == 0 ? _emptyRoot : r, t.nextLeaf, t.batches, t.epoch);
    }

    /// @inheritdoc IFlavumRollup
    function batchIdOf(uint256 modelId, uint256 modelBatch) external pure returns (uint256) {
        return (modelId << 64) | modelBatch;
    }

    /// @inheritdoc IFlavumRollup
    function batchCommitment(uint256 batchId) external view returns (bytes32) {
        return _batchCommitments[batchId];
    }

    /// @inheritdoc IFlavumRollup
    function emptyRoot() external view returns (uint256) {
        return _emptyRoot;
    }

    /// @inheritdoc IFlavumRollup
    function inclusionDelay() external view returns (uint64) {
        return _inclusionDelay;
    }

    /// @inheritdoc IFlavumRollup
    function traceStore() external view returns (TraceStore mode, uint256 dacThreshold, bytes32 dacCommittee) {
        return (_traceStore, _dacThreshold, _dacCommittee);
    }

    /// @inheritdoc IFlavumRollup
    function deployBlock() external view returns (uint64) {
        return _deployBlock;
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

    // ------------------------------------------------------------------ read API

    /// @inheritdoc IFlavumInference
    function verifyInference(uint256 batchId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        public
        view
        returns (bool)
    {
        bytes32 commitment = _batchCommitments[batchId];
        if (commitment == 0 || path.length > MAX_PATH || index >> path.length != 0) return false;
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
        return keccak256(abi.encode(node, entry.modelId, path.length)) == commitment;
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
        if (inputHash >= FIELD_MODULUS) revert FlavumNotFieldElement(inputHash);
        _checkRequest(modelId);
        _checkInput(modelId, input);
        requestId = _openRequest(modelId, inputHash, msg.sender, callback, RequestStatus.Pending);
        _enqueue(modelId, requestId);
        emit InferenceRequested(requestId, modelId, inputHash, input, callback);
    }

    function _checkRequest(uint256 modelId) private view {
        if (msg.value < _requestFee) revert FlavumInsufficientFee(msg.value, _requestFee);
        if (msg.value > type(uint128).max) revert FlavumFeeTooLarge(msg.value);
        if (modelId > type(uint64).max || !_registry.isRegistered(modelId)) revert FlavumUnknownRequestModel(modelId);
    }

    function _openRequest(uint256 modelId, uint256 inputHash, address requester, address callback, RequestStatus status)
        private
        returns (uint256 requestId)
    {
        requestId = (uint256(_chainTag) << CHAIN_TAG_SHIFT) | ++_requestCount;
        _requests[requestId] = InferenceRequest({
            inputHash: inputHash,
            requester: requester,
            modelId: uint64(modelId),
            status: status,
            callback: callback,
            createdBlock: uint64(block.number),
            fee: uint128(msg.value),
            batchId: 0
        });
    }

    function _enqueue(uint256 modelId, uint256 requestId) private {
        ModelTrace storage q = _traces[modelId];
        _queued[modelId][q.tail] = requestId;
        ++q.tail;
    }

    // ------------------------------------------------------------------ requests on data points

    modifier onlyState() {
        if (msg.sender != address(_state) || msg.sender == address(0)) revert FlavumNotStateContract(address(_state));
        _;
    }

    /**
     * @notice Attaches the rollup state contract, once: from then on inference batches check it is live, and
     * it opens, releases and refuses requests on data points.
     * @param state the FlavumState
     */
    function attachState(address state) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_state) != address(0)) revert FlavumStateAlreadyAttached(address(_state));
        if (state == address(0)) revert FlavumZeroAddress("state");
        _state = IFlavumState(state);
        emit StateAttached(state);
    }

    /// @notice The attached state contract (zero if none).
    function stateContract() external view returns (address) {
        return address(_state);
    }

    // ------------------------------------------------------------------ contributor revenue

    /// @inheritdoc IFlavumRollup
    function attachRevenue(address revenue) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_revenue != address(0)) revert FlavumRevenueAlreadyAttached(_revenue);
        if (revenue == address(0)) revert FlavumZeroAddress("revenue");
        _revenue = revenue;
        emit RevenueAttached(revenue);
    }

    /// @inheritdoc IFlavumRollup
    function revenueContract() external view returns (address) {
        return _revenue;
    }

    /// @inheritdoc IFlavumRollup
    function modelRevenueOf(uint256 modelId) external view returns (uint256) {
        return _modelRevenue[modelId];
    }

    /// @inheritdoc IFlavumRollup
    function withdrawModelRevenue(uint256 modelId) external returns (uint256 amount) {
        if (msg.sender != _revenue) revert FlavumNotRevenueContract(msg.sender, _revenue);
        amount = _modelRevenue[modelId];
        // The revenue contract collects before every release: an empty accrual must not block it.
        if (amount == 0) return 0;
        _modelRevenue[modelId] = 0;
        emit ModelRevenueWithdrawn(modelId, msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IFlavumDataPointRequests
    function openDataPointRequest(uint256 modelId, uint256 dpId, uint256 contentHash, address requester, address callback)
        external
        payable
        onlyState
        returns (uint256 requestId)
    {
        _checkRequest(modelId);
        requestId = _openRequest(modelId, contentHash, requester, callback, RequestStatus.Authorizing);
        _requestDataPoint[requestId] = dpId;
        emit DataPointInferenceRequested(requestId, modelId, dpId, requester, callback);
    }

    /// @inheritdoc IFlavumDataPointRequests
    function releaseDataPointRequest(uint256 requestId) external onlyState {
        InferenceRequest storage request = _requests[requestId];
        if (request.status != RequestStatus.Authorizing) revert FlavumWrongRequestStatus(requestId, request.status);
        request.status = RequestStatus.Pending;
        // Due from its authorisation: the model's sequencer could not serve it earlier.
        request.createdBlock = uint64(block.number);
        _enqueue(request.modelId, requestId);
        emit InferenceRequested(requestId, request.modelId, request.inputHash, "", request.callback);
    }

    /// @inheritdoc IFlavumDataPointRequests
    function refuseDataPointRequest(uint256 requestId, string calldata reason) external onlyState {
        InferenceRequest storage request = _requests[requestId];
        if (request.status != RequestStatus.Authorizing) revert FlavumWrongRequestStatus(requestId, request.status);
        _reject(requestId, request, reason);
    }

    /// @inheritdoc IFlavumDataPointRequests
    function isSequencer(address account) external view returns (bool) {
        return hasRole(SEQUENCER_ROLE, account);
    }

    /// @inheritdoc IFlavumDataPointRequests
    function dataPointResult(uint256 dpId, uint256 modelId)
        external
        view
        returns (bool found, uint256 outputWord, uint256 batchId)
    {
        uint256[2] memory r = _dataPointResults[dpId][modelId];
        return (r[1] != 0 || r[0] != 0, r[0], r[1]);
    }

    /// @notice The data point request `requestId` asks about (0 for a request on an input).
    function dataPointOfRequest(uint256 requestId) external view returns (uint256) {
        return _requestDataPoint[requestId];
    }

    /**
     * @dev `input` must be exactly `abi.encode(int256[])` of the model's input size, each value inside its
     * signed bit width: a request the sequencer could not even decode never enters the queue.
     */
    function _checkInput(uint256 modelId, bytes calldata input) private view {
        (uint256 size,, uint8 bits) = _registry.inputLayoutOf(modelId);
        if (input.length < 64 || uint256(bytes32(input[0:32])) != 32) revert FlavumMalformedInput(input.length);
        // The array's own length first, so a well-encoded input of the wrong size names both sizes.
        uint256 n = uint256(bytes32(input[32:64]));
        if (n != size) revert FlavumInvalidInputLength(modelId, n, size);
        if (input.length != 64 + 32 * size) revert FlavumMalformedInput(input.length);
        int256 hi = int256(1 << (bits - 1));
        for (uint256 i; i < n; ++i) {
            int256 v = int256(uint256(bytes32(input[64 + 32 * i:96 + 32 * i])));
            if (v < -hi || v >= hi) revert FlavumInputOutOfRange(i, v, bits);
        }
    }

    /// @inheritdoc IFlavumInference
    function fulfill(uint256 requestId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        external
    {
        InferenceRequest storage request = _requests[requestId];
        if (request.requester == address(0)) revert FlavumUnknownRequest(requestId);
        if (request.status != RequestStatus.Included) revert FlavumWrongRequestStatus(requestId, request.status);
        if (entry.requestId != requestId || entry.modelId != request.modelId || entry.inputHash != request.inputHash) {
            revert FlavumEntryMismatch(requestId);
        }
        uint256 batchId = request.batchId;
        if (!verifyInference(batchId, entry, index, path)) revert FlavumInclusionNotProven(requestId, batchId);
        _deliver(requestId, request, entry, batchId);
    }

    /// @inheritdoc IFlavumRollup
    function fulfillFromBatch(uint256 batchId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        external
    {
        uint256 requestId = entry.requestId;
        InferenceRequest storage request = _requests[requestId];
        if (request.requester == address(0)) revert FlavumUnknownRequest(requestId);
        if (request.status != RequestStatus.Pending) revert FlavumWrongRequestStatus(requestId, request.status);
        if (entry.modelId != request.modelId || entry.inputHash != request.inputHash) revert FlavumEntryMismatch(requestId);
        address sequencer = _batchSubmitters[batchId];
        if (sequencer == address(0)) revert FlavumNotPostedBatch(batchId);
        if (!verifyInference(batchId, entry, index, path)) revert FlavumInclusionNotProven(requestId, batchId);
        request.status = RequestStatus.Included;
        request.batchId = uint128(batchId);
        uint256 fee = request.fee;
        emit InferenceIncluded(requestId, batchId, sequencer, fee);
        if (fee != 0) {
            // Zero for a model that was not published: its sequencer keeps the whole fee.
            (, uint16 bps) = _registry.weightsBindingOf(entry.modelId);
            if (bps != 0) fee -= _accrue(entry.modelId, (fee * bps) / MAX_BPS);
            _earnings[sequencer] += fee;
        }
        _deliver(requestId, request, entry, batchId);
    }

    /// @dev Marks a proven request fulfilled, records a data point's result, and runs the callback.
    function _deliver(uint256 requestId, InferenceRequest storage request, InferenceEntry calldata entry, uint256 batchId)
        private
    {
        request.status = RequestStatus.Fulfilled;
        uint256 dpId = _requestDataPoint[requestId];
        if (dpId != 0) _dataPointResults[dpId][entry.modelId] = [entry.outputWord, batchId];
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
    function cancelRequest(uint256 requestId) external {
        InferenceRequest storage request = _requests[requestId];
        if (request.requester == address(0)) revert FlavumUnknownRequest(requestId);
        if (request.requester != msg.sender) revert FlavumNotRequester(requestId, request.requester);
        if (request.status != RequestStatus.Pending) revert FlavumWrongRequestStatus(requestId, request.status);
        uint256 from = uint256(request.createdBlock) + _inclusionDelay;
        if (block.number < from) revert FlavumCancelTooEarly(requestId, from);
        request.status = RequestStatus.Cancelled;
        uint256 refund = request.fee;
        request.fee = 0;
        emit RequestCancelled(requestId, refund);
        if (refund != 0) Address.sendValue(payable(msg.sender), refund);
    }

    /// @inheritdoc IFlavumInference
    function rejectRequest(uint256 requestId, string calldata reason) external onlyRole(SEQUENCER_ROLE) {
        InferenceRequest storage request = _requests[requestId];
        if (request.requester == address(0)) revert FlavumUnknownRequest(requestId);
        if (request.status != RequestStatus.Pending) revert FlavumWrongRequestStatus(requestId, request.status);
        _reject(requestId, request, reason);
    }

    function _reject(uint256 requestId, InferenceRequest storage request, string calldata reason) private {
        request.status = RequestStatus.Rejected;
        uint256 refund = request.fee;
        request.fee = 0;
        emit RequestRejected(requestId, reason, refund);
        // A requester that refuses ether must not be able to block its own rejection: credit it instead.
        if (refund != 0) {
            (bool ok,) = payable(request.requester).call{value: refund, gas: 10_000}("");
            if (!ok) _earnings[request.requester] += refund;
        }
    }

    /// @inheritdoc IFlavumInference
    function setRequestFee(uint256 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit RequestFeeSet(_requestFee, fee);
        _requestFee = fee;
    }

    /// @inheritdoc IFlavumInference
    function withdrawEarnings(address payable to) external {
        if (to == address(0)) revert FlavumZeroAddress("to");
        uint256 amount = _earnings[msg.sender];
        if (amount == 0) revert FlavumNothingToWithdraw(msg.sender);
        _earnings[msg.sender] = 0;
        emit EarningsWithdrawn(msg.sender, to, amount);
        Address.sendValue(to, amount);
    }

    /// @inheritdoc IFlavumInference
    function earningsOf(address sequencer) external view returns (uint256) {
        return _earnings[sequencer];
    }

    /// @inheritdoc IFlavumInference
    function nextPendingRequest(uint256 modelId) external view returns (uint256 requestId, uint256 dueBlock) {
        ModelTrace memory q = _traces[modelId];
        requestId = _skipClosed(modelId, q);
        if (requestId != 0) dueBlock = uint256(_requests[requestId].createdBlock) + _inclusionDelay;
    }

    // ------------------------------------------------------------------ the domain and its chains

    /// @inheritdoc IFlavumRollup
    function domain() external view returns (uint256) {
        return _domain;
    }

    /// @inheritdoc IFlavumRollup
    function chainTag() external view returns (uint16) {
        return _chainTag;
    }

    /// @inheritdoc IFlavumRollup
    function history() external view returns (uint256 root, uint64 batches) {
        return (_history, _historyBatches);
    }

    /// @inheritdoc IFlavumRollup
    function settlements() external view returns (Settlement[] memory) {
        return _settlements;
    }

    /// @inheritdoc IFlavumRollup
    function registerSettlement(uint256 chainId, address rollup, uint16 tag) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (rollup == address(0)) revert FlavumZeroAddress("rollup");
        for (uint256 i; i < _settlements.length; ++i) {
            Settlement memory s = _settlements[i];
            if (s.chainId == chainId || s.tag == tag) revert FlavumSettlementTaken(chainId, tag, s.chainId, s.tag);
        }
        _settlements.push(Settlement({chainId: chainId, rollup: rollup, tag: tag}));
        emit SettlementRegistered(chainId, rollup, tag);
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
