// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlavumInference} from "./IFlavumInference.sol";

/**
 * @title Flavum rollup: batch settlement
 * @notice A sequencer posts batches of proven inferences. Every model has its own depth-20 Poseidon
 * trace tree; a batch appends its leaves to its model's tree as one aligned subtree of `batchSize`
 * leaves and is accepted only with a Groth16 proof, checked by the verifier the model was registered
 * with for that batch size, of the six public inputs (mirrored from `src/protocol/batch.ts`)
 *
 *     [oldRoot, newRoot, batchRoot, meta, r, h]
 *     meta = modelId | modelBatch << 64 | firstLeaf << 128 | count << 168 | layout << 184 | log2(B) << 201
 *     r    = keccak256(abi.encodePacked(chainid, rollup, oldRoot, newRoot, batchRoot, meta, trace)) mod p
 *     h    = sum_j e_j * r^(j+1) mod p over the posted trace elements
 *
 * `oldRoot` and `modelBatch` are the model's own tree root and batch counter, so no model's batches can
 * move another model's state or make its proofs stale; `layout` is the registered output layout and
 * log2(B) the batch size, which the circuit checks against its own. r binds the chain and the rollup.
 * A batch's id is `modelId << 64 | modelBatch`.
 *
 * The trace (calldata, parsed and bound on chain; `src/protocol/traceBinding.ts`): byte 0 is the output
 * word size w (1..31), then per real inference `requestId (8 bytes) ‖ inputHash (32) ‖ outputWord (w)`,
 * big-endian, in leaf order; its elements are (requestId, inputHash, outputWord) per entry. Leaf i of the
 * batch is Poseidon(modelId, requestId, inputHash, outputWord); the `batchSize - count` padding leaves
 * are 0. Because h binds the posted entries to the proven leaves, anyone can rebuild every leaf and
 * inclusion path from calldata alone.
 *
 * On-chain requests (ids below 2^63) inside a batch must be the model's oldest pending requests, in
 * order; a batch that leaves behind a request older than `inclusionDelay` blocks reverts unless it is
 * full of on-chain requests (forced inclusion). Their fees go to the submitting sequencer.
 *
 * Published models (`IModelRegistry.publish`, bit 17 of the registry's layout word): the bit stays out of
 * meta, and their batches are proven for seven public inputs `[oldRoot, newRoot, batchRoot, meta, r, h,
 * weightsHash]` (`ICommittedBatchVerifier`), weightsHash being the published commit's weights from the
 * registry. Of each fee their batches earn, the contributors' basis points accrue to the model
 * (`modelRevenueOf`), for the attached revenue contract to withdraw; the sequencer keeps the rest.
 */
interface IFlavumRollup {
    /// @notice Where a deployment posts its batch traces: calldata (bound on chain), EIP-4844 blobs (the
    /// versioned hash recorded) or IPFS (the CID digest recorded, attested by a k-of-n committee).
    enum TraceStore {
        Calldata,
        Blob,
        Ipfs
    }

    /**
     * @notice How traces are stored, fixed at deployment.
     * @param mode the trace store
     * @param committee the data-availability committee (IPFS only), sorted ascending
     * @param threshold how many of its members must attest each batch (IPFS only)
     */
    struct TraceStoreConfig {
        TraceStore mode;
        address[] committee;
        uint256 threshold;
    }

    /**
     * @notice Which rollup this contract settles, and where it stands among the rollup's chains.
     * @param domain the rollup's id on every chain (what its proofs bind), nonzero and below the BN254 field
     * @param chainTag this chain's tag: the high bits of the on-chain request ids it hands out
     */
    struct ChainConfig {
        uint256 domain;
        uint16 chainTag;
    }

    /**
     * @notice A chain that settles this rollup's domain, as the admin registered it.
     * @param chainId the chain's EIP-155 id
     * @param rollup the FlavumRollup there
     * @param tag its chain tag in the domain
     */
    struct Settlement {
        uint256 chainId;
        address rollup;
        uint16 tag;
    }

    /**
     * @notice A batch whose trace is posted outside calldata, with its proof.
     * @param modelId the model
     * @param batchSize its registered batch size
     * @param count the real inferences
     * @param newRoot the model's trace root after the batch
     * @param batchRoot the batch subtree's root
     * @param a the proof's A point
     * @param b the proof's B point
     * @param c the proof's C point
     * @param h the proven RLC of the entries at r
     */
    struct PostedBatch {
        uint256 modelId;
        uint16 batchSize;
        uint16 count;
        uint256 newRoot;
        uint256 batchRoot;
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
        uint256 h;
    }

    /// @notice The deployment stores traces in `mode`; IPFS batches need `threshold` attestations of `committee`.
    event TraceStoreConfigured(TraceStore mode, address[] committee, uint256 threshold);
    /// @notice The admin listed `rollup` on chain `chainId` (tag `tag`) as settling this rollup's domain.
    event SettlementRegistered(uint256 indexed chainId, address rollup, uint16 tag);
    /// @notice Batch `batchId`'s trace was posted to `mode`, committed as `data`; the proof binds r to `data` and
    /// proves the posted entries' RLC at r is `h`, which anyone holding the data can recompute.
    event BatchDataPosted(uint256 indexed batchId, TraceStore mode, bytes32 data, uint256 h);

    /**
     * @notice Batch `batchId` (the model's batch `modelBatch`) of model `modelId` moved the model's trace
     * root from `oldRoot` to `newRoot`.
     */
    event BatchSubmitted(
        uint256 indexed batchId,
        uint256 indexed modelId,
        uint256 modelBatch,
        uint256 firstLeaf,
        uint256 count,
        uint256 batchSize,
        uint256 oldRoot,
        uint256 newRoot,
        uint256 batchRoot
    );
    /// @notice Model `modelId`'s trace tree was full; its batch `modelBatch` starts tree `epoch` from empty.
    event TraceTreeRolledOver(uint256 indexed modelId, uint256 modelBatch, uint256 epoch);
    /// @notice The sequencer role moved from `previous` to `next`.
    event SequencerRotated(address indexed previous, address indexed next);
    /// @notice Model `modelId`'s queue head moved from `from` to `to` past closed requests.
    event QueueAdvanced(uint256 indexed modelId, uint256 from, uint256 to);
    /// @notice The revenue contract `revenue` was attached: it alone withdraws models' contributor revenue.
    event RevenueAttached(address revenue);
    /// @notice `amount` of inference fees accrued to the contributors of published model `modelId`.
    event ModelRevenueAccrued(uint256 indexed modelId, uint256 amount);
    /// @notice The contributor revenue `amount` of model `modelId` was sent to `to`.
    event ModelRevenueWithdrawn(uint256 indexed modelId, address indexed to, uint256 amount);

    /// @notice This deployment stores traces in `mode`; the call is for another store.
    error FlavumWrongTraceStore(TraceStore mode);
    /// @notice The domain must be nonzero and a BN254 scalar.
    error FlavumInvalidDomain(uint256 domain);
    /// @notice A settlement of chain `chainId` or tag `tag` is already listed (as chain `takenChainId`, tag `takenTag`).
    error FlavumSettlementTaken(uint256 chainId, uint16 tag, uint256 takenChainId, uint16 takenTag);
    /// @notice A blob batch was sent without a blob.
    error FlavumNoBlob();
    /// @notice The committee given is not the deployment's.
    error FlavumWrongCommittee();
    /// @notice Batch `batchId` is not a blob or IPFS batch (its requests were served when it settled).
    error FlavumNotPostedBatch(uint256 batchId);
    /// @notice A batch must hold 1..`batchSize` inferences, got `count`.
    error FlavumInvalidCount(uint16 count, uint16 batchSize);
    /// @notice A model id must fit 64 bits, got `modelId`.
    error FlavumModelIdTooLarge(uint256 modelId);
    /// @notice Verifier `verifier` rejected the proof of batch `batchId` of model `modelId` for the model's
    /// current root and batch number, this chain and rollup, and the posted trace.
    error FlavumInvalidBatchProof(uint256 modelId, uint256 batchId, address verifier);
    /// @notice `account` does not hold the sequencer role.
    error FlavumNotSequencer(address account);
    /// @notice A zero address was given for `what`.
    error FlavumZeroAddress(string what);
    /// @notice The trace's output word size `wordBytes` is not 1..31.
    error FlavumInvalidTraceWord(uint256 wordBytes);
    /// @notice The trace has `length` bytes; `count` entries of this word size need `expected`.
    error FlavumInvalidTraceLength(uint256 length, uint256 expected, uint16 count);
    /// @notice Trace entry `index` holds `value`, which is not a canonical BN254 field element.
    error FlavumTraceNotFieldElement(uint256 index, uint256 value);
    /// @notice Trace entry `index` names on-chain request `requestId`, but model `modelId`'s next pending
    /// request is `expected` (0: none): on-chain requests are served in order, once.
    error FlavumRequestOutOfOrder(uint256 modelId, uint256 index, uint256 requestId, uint256 expected);
    /// @notice Trace entry `index` answers request `requestId` with input commitment `inputHash`, not the
    /// requester's.
    error FlavumRequestInputMismatch(uint256 index, uint256 requestId, uint256 inputHash);
    /// @notice Request `requestId` of model `modelId` is overdue since block `dueBlock`: the batch must
    /// include it (or be full of on-chain requests).
    error FlavumOverdueRequest(uint256 modelId, uint256 requestId, uint256 dueBlock);
    /// @notice More than 64 closed requests follow position `head` of model `modelId`'s queue: call
    /// `advanceQueue` first.
    error FlavumQueueBacklog(uint256 modelId, uint256 head);
    /// @notice The revenue contract `revenue` is already attached.
    error FlavumRevenueAlreadyAttached(address revenue);
    /// @notice `caller` is not the attached revenue contract `revenue`.
    error FlavumNotRevenueContract(address caller, address revenue);

    /**
     * @notice Settles a proven batch. Only the sequencer.
     * @param modelId the model every inference of the batch ran
     * @param batchSize the batch circuit's size (selects the model's verifier)
     * @param count the number of real inferences, 1..batchSize
     * @param newRoot the model's trace root after appending the batch
     * @param batchRoot the root of the batch's subtree of `batchSize` leaves
     * @param a the proof's A point
     * @param b the proof's B point
     * @param c the proof's C point
     * @param trace the compact trace (see the contract notice), bound to the proof
     */
    function submitBatch(
        uint256 modelId,
        uint16 batchSize,
        uint16 count,
        uint256 newRoot,
        uint256 batchRoot,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        bytes calldata trace
    ) external;

    /**
     * @notice Settles a batch whose trace is in blob 0 of this (type-3) transaction: r binds the blob's
     * versioned hash; `h` is the RLC of the proven entries at r, recorded for anyone to check against the blob.
     * On-chain requests in it are fulfilled later with `fulfillFromBatch`.
     * @param batch the batch and its proof
     */
    function submitBatchBlob(PostedBatch calldata batch) external;

    /**
     * @notice Settles a batch whose trace was published to IPFS as a raw block with sha2-256 digest
     * `cidDigest`, attested by at least the threshold of the committee (EIP-712 `Availability(batchId, digest)`,
     * domain "FlavumDAC" "1", signatures sorted by signer).
     * @param batch the batch and its proof
     * @param cidDigest the trace's sha2-256 digest (its CIDv1 raw)
     * @param committee the deployment's committee
     * @param signatures 65-byte attestations, ascending by signer
     */
    function submitBatchIpfs(
        PostedBatch calldata batch,
        bytes32 cidDigest,
        address[] calldata committee,
        bytes calldata signatures
    ) external;

    /**
     * @notice Delivers a pending on-chain request proven in blob or IPFS batch `batchId`: its fee goes to the
     * batch's sequencer (less the contributors' basis points, for a published model) and its callback runs.
     * Anyone may call it.
     * @param batchId the batch
     * @param entry the request's trace entry
     * @param index its leaf in the batch subtree
     * @param path its inclusion path
     */
    function fulfillFromBatch(uint256 batchId, IFlavumInference.InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        external;

    /**
     * @notice Attaches the contract that pays published models' contributors, once. Only the admin. It is
     * the one trust this gives the admin: the contract chosen receives every contributors' cut, so anyone
     * relying on it checks `revenueContract()`'s code (a ContributorRevenue of this rollup's registry).
     * @param revenue the revenue contract (`IContributorRevenue`), non-zero
     */
    function attachRevenue(address revenue) external;

    /// @notice The attached revenue contract (zero if none).
    function revenueContract() external view returns (address);

    /**
     * @notice The contributor revenue model `modelId` has accrued and not yet withdrawn.
     * @param modelId the model
     * @return the amount, in wei
     */
    function modelRevenueOf(uint256 modelId) external view returns (uint256);

    /**
     * @notice Sends model `modelId`'s accrued contributor revenue to the caller and zeroes it. Only the
     * attached revenue contract. Returns 0, sending nothing, when nothing accrued.
     * @param modelId the model
     * @return amount the amount sent
     */
    function withdrawModelRevenue(uint256 modelId) external returns (uint256 amount);

    /// @notice The trace store, the committee's threshold and the hash of its members (IPFS).
    function traceStore() external view returns (TraceStore mode, uint256 dacThreshold, bytes32 dacCommittee);

    /**
     * @notice Moves the sequencer role from `previous` to `next`. Only the admin.
     * @param previous a current sequencer
     * @param next the new sequencer
     */
    function rotateSequencer(address previous, address next) external;

    /**
     * @notice The trace state of model `modelId`.
     * @param modelId the model
     * @return root its trace tree's current root (the empty root before its first batch)
     * @return nextLeaf the first leaf after its last batch (before alignment of the next one)
     * @return batches the number of its batches settled: the next one's `modelBatch`
     * @return epoch how many times its tree rolled over
     */
    function modelTrace(uint256 modelId)
        external
        view
        returns (uint256 root, uint64 nextLeaf, uint64 batches, uint64 epoch);

    /**
     * @notice The id of model `modelId`'s batch `modelBatch`: `modelId << 64 | modelBatch`. Batch ids are
     * per model so that no model's batches change another's.
     * @param modelId the model
     * @param modelBatch the model's batch number
     * @return the batch id the read API takes
     */
    function batchIdOf(uint256 modelId, uint256 modelBatch) external pure returns (uint256);

    /**
     * @notice Steps model `modelId`'s queue head over up to `maxSteps` cancelled or rejected requests.
     * Anyone may call; needed only after more than 64 of them in a row.
     * @param modelId the model
     * @param maxSteps the most requests to step over
     */
    function advanceQueue(uint256 modelId, uint256 maxSteps) external;

    /**
     * @notice What batch `batchId` settled, as one word: keccak256(abi.encode(batchRoot, modelId,
     * log2(batchSize))) (0 for a batch not yet settled). The read API checks an inclusion proof against it,
     * so a proof names the batch's model and is exactly as long as its batch size requires.
     * @param batchId the batch
     * @return the batch commitment
     */
    function batchCommitment(uint256 batchId) external view returns (bytes32);

    /// @notice The root of an empty depth-20 trace tree: every model's tree starts there.
    function emptyRoot() external view returns (uint256);

    /// @notice Blocks after which a pending on-chain request must be included, or may be cancelled.
    function inclusionDelay() external view returns (uint64);

    /// @notice The rollup's domain: the id its batch proofs bind, the same on every chain it settles on.
    function domain() external view returns (uint256);

    /// @notice This chain's tag in the domain: on-chain request ids here are `chainTag << 47 | n`.
    function chainTag() external view returns (uint16);

    /**
     * @notice The settlement history: a running root over every batch settled here, in order
     * (batchHash = keccak(batchId, oldRoot, newRoot, batchRoot) mod p; root = keccak(root, batchHash) mod p),
     * and how many batches it covers. Chains that settled the same batches in the same order agree on it.
     * @return root the history root (0 before the first batch)
     * @return batches the batches it covers
     */
    function history() external view returns (uint256 root, uint64 batches);

    /// @notice Every (chain id, contract, tag) the admin lists as settling this domain, this one included.
    function settlements() external view returns (Settlement[] memory);

    /**
     * @notice Lists a contract settling this domain on chain `chainId` with tag `tag` (admin only).
     * A chain id or tag already listed is refused. The deploy code lists the contract's own chain first.
     * @param chainId the chain's EIP-155 id
     * @param rollup the FlavumRollup settling the domain there (nonzero)
     * @param tag its chain tag in the domain
     */
    function registerSettlement(uint256 chainId, address rollup, uint16 tag) external;

    /// @notice The block the rollup was deployed in: where its event history starts.
    function deployBlock() external view returns (uint64);

    /// @notice The model registry batches' verifiers come from.
    function registry() external view returns (address);

    /// @notice The Poseidon hasher of two inputs (tree nodes).
    function poseidon2() external view returns (address);

    /// @notice The Poseidon hasher of four inputs (tree leaves).
    function poseidon4() external view returns (address);
}
