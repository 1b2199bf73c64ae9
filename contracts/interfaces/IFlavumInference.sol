// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum inference read API and request/callback oracle
 * @notice What other dApps use. `verifyInference` answers "did model M on input commitment X produce
 * output word Y in batch B?" from a trace entry and its inclusion path in the batch's subtree.
 * `requestInference` / `fulfill` follow the request/callback pattern of on-chain AI oracles: a contract
 * pays `estimateFee`, gets a request id, and is called back through `IFlavumConsumer.onInference` once
 * the sequencer has proven the inference and anyone has presented its inclusion proof.
 */
interface IFlavumInference {
    /**
     * @notice One trace entry; its leaf is Poseidon(modelId, requestId, inputHash, outputWord).
     * Every field must be a canonical BN254 field element (below the scalar field modulus).
     * @param modelId the model that ran
     * @param requestId the request the inference answers (on-chain ids below 2^63)
     * @param inputHash the Poseidon commitment to the input
     * @param outputWord label in the low 8 bits, then the outputs (see `decodeOutput`)
     */
    struct InferenceEntry {
        uint256 modelId;
        uint256 requestId;
        uint256 inputHash;
        uint256 outputWord;
    }

    /// @notice Where an on-chain request stands: pending, included in a proven batch (its fee paid to the
    /// sequencer), fulfilled (callback run), cancelled by its requester or rejected by the sequencer
    /// (both refunded), or — a request on a data point — waiting for a state batch to prove the requester
    /// may use the data point.
    enum RequestStatus {
        None,
        Pending,
        Included,
        Fulfilled,
        Cancelled,
        Rejected,
        Authorizing
    }

    /**
     * @notice An on-chain request.
     * @param inputHash the requester's input commitment
     * @param requester who paid for it
     * @param modelId the model asked
     * @param status where it stands
     * @param callback the `IFlavumConsumer` to call back, or zero
     * @param createdBlock the block it was made in (it is due `inclusionDelay` blocks later)
     * @param fee what the requester paid, held until it is included (to the sequencer) or refunded
     * @param batchId the batch it was included in (meaningful from `Included` on)
     */
    struct InferenceRequest {
        uint256 inputHash;
        address requester;
        uint64 modelId;
        RequestStatus status;
        address callback;
        uint64 createdBlock;
        uint128 fee;
        uint128 batchId;
    }

    /// @notice `requester` asked model `modelId` for an inference on `input`, committed as `inputHash`.
    event InferenceRequested(
        uint256 indexed requestId,
        uint256 indexed modelId,
        uint256 inputHash,
        bytes input,
        address callback
    );
    /// @notice Request `requestId` was proven in batch `batchId`; `sequencer` earned its `fee`.
    event InferenceIncluded(uint256 indexed requestId, uint256 indexed batchId, address indexed sequencer, uint256 fee);
    /// @notice Request `requestId` was proven in batch `batchId` with output `outputWord` and delivered.
    event InferenceFulfilled(uint256 indexed requestId, uint256 indexed batchId, uint256 modelId, uint256 outputWord);
    /// @notice The callback `callback` of request `requestId` reverted, ran out of gas or has no code.
    event CallbackFailed(uint256 indexed requestId, address indexed callback);
    /// @notice Request `requestId` was cancelled by its requester after its deadline; `refund` returned.
    event RequestCancelled(uint256 indexed requestId, uint256 refund);
    /// @notice The sequencer could not serve request `requestId` (`reason`); `refund` returned to the requester.
    event RequestRejected(uint256 indexed requestId, string reason, uint256 refund);
    /// @notice The request fee changed from `previous` to `fee`.
    event RequestFeeSet(uint256 previous, uint256 fee);
    /// @notice `sequencer` withdrew `amount` of the fees it earned to `to`.
    event EarningsWithdrawn(address indexed sequencer, address indexed to, uint256 amount);

    /// @notice The request fee is `fee`, but `paid` was sent.
    error FlavumInsufficientFee(uint256 paid, uint256 fee);
    /// @notice `paid` does not fit the 128 bits a request's escrow holds.
    error FlavumFeeTooLarge(uint256 paid);
    /// @notice No model `modelId` can be asked (unregistered, or wider than 64 bits).
    error FlavumUnknownRequestModel(uint256 modelId);
    /// @notice `value` is not a canonical BN254 field element.
    error FlavumNotFieldElement(uint256 value);
    /// @notice The input has `given` values; model `modelId` takes `expected`.
    error FlavumInvalidInputLength(uint256 modelId, uint256 given, uint256 expected);
    /// @notice Input value `index` is `value`, outside the model's `bits`-bit signed range.
    error FlavumInputOutOfRange(uint256 index, int256 value, uint8 bits);
    /// @notice The input is not `abi.encode(int256[])` (`length` bytes).
    error FlavumMalformedInput(uint256 length);
    /// @notice No on-chain request `requestId` exists.
    error FlavumUnknownRequest(uint256 requestId);
    /// @notice Request `requestId` is `status`, which does not allow this.
    error FlavumWrongRequestStatus(uint256 requestId, RequestStatus status);
    /// @notice Only the requester `requester` of request `requestId` may do this.
    error FlavumNotRequester(uint256 requestId, address requester);
    /// @notice Request `requestId` may be cancelled from block `fromBlock` on.
    error FlavumCancelTooEarly(uint256 requestId, uint256 fromBlock);
    /// @notice The entry's request id, model or input commitment differ from request `requestId`'s.
    error FlavumEntryMismatch(uint256 requestId);
    /// @notice The entry of request `requestId` is not at the given index of batch `batchId`.
    error FlavumInclusionNotProven(uint256 requestId, uint256 batchId);
    /// @notice Fulfilling with a callback needs `needed` gas left, only `available` was.
    error FlavumInsufficientCallbackGas(uint256 available, uint256 needed);
    /// @notice Nothing to withdraw for `account`.
    error FlavumNothingToWithdraw(address account);

    /**
     * @notice Whether `entry` is leaf `index` of batch `batchId`'s subtree: its leaf climbed with
     * `path` (siblings from the leaf up; bit k of `index` set means the node is a right child at level
     * k) gives the batch root, the batch was settled for `entry.modelId`, and `path` has exactly
     * log2(batchSize) siblings. False, never a revert, for an unknown batch, a non-canonical field,
     * an index wider than the path, another model's batch, a path of another length or a mismatch.
     * @param batchId the batch
     * @param entry the trace entry
     * @param index the leaf's position in the batch
     * @param path the sibling hashes, log2(batchSize) of them
     * @return whether the entry is proven
     */
    function verifyInference(uint256 batchId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path)
        external
        view
        returns (bool);

    /**
     * @notice Decodes an output word with the registered layout of `modelId`: `label` is the low 8 bits,
     * output i is `((word >> (8 + bits * i)) & (2^bits - 1)) - 2^(bits - 1)`, in the model's output scale.
     * @param modelId the model
     * @param outputWord the packed word
     * @return label the class label (meaningful when the model has one)
     * @return outputs the signed fixed-point outputs
     */
    function decodeOutput(uint256 modelId, uint256 outputWord)
        external
        view
        returns (uint8 label, int256[] memory outputs);

    /**
     * @notice The fee `requestInference` requires (one global fee; `modelId` is for forward compatibility).
     * @param modelId the model
     * @return the fee in wei
     */
    function estimateFee(uint256 modelId) external view returns (uint256);

    /**
     * @notice Asks for an inference of `modelId` on `input`. Pays at least `estimateFee`; the whole payment
     * is held for this request: it goes to the sequencer whose proven batch includes the request, or back
     * to the requester on `cancelRequest` (after `inclusionDelay` blocks) or `rejectRequest`. The input is
     * checked here (encoding, length, range), so a request that reaches the queue is well formed. Ids are
     * 1, 2, 3, ...
     *
     * Encoding, from the registry alone (`IModelRegistry.inputLayoutOf` or `shapeOf`: size n, scale s, bits b):
     *   q_i = round(x_i * 2^s) (halves toward +infinity), each in [-2^(b-1), 2^(b-1)), row-major order;
     *   input = abi.encode(int256[] q) (exactly n values);
     *   inputHash = PackedHash(q, b): u_i = q_i + 2^(b-1); k = floor(250 / b) values per word,
     *   w_j = sum_t u_{jk+t} * 2^(b*t); h = n; for each chunk of up to 15 words, h = Poseidon(h, w...);
     *   inputHash = h (circomlib Poseidon over BN254, as `circuits/lib/PackedHash.circom`).
     * A request whose input is not n values of b bits hashing to `inputHash` is not served.
     * `src/sdk/encodeInput.ts` implements this encoding.
     * @param modelId a registered model
     * @param inputHash the Poseidon commitment to `input`, as the model's circuit computes it
     * @param input `abi.encode(int256[])` of the quantized input, for the sequencer (emitted, not stored)
     * @param callback an `IFlavumConsumer` to call on fulfilment, or zero
     * @return requestId the request's id
     */
    function requestInference(uint256 modelId, uint256 inputHash, bytes calldata input, address callback)
        external
        payable
        returns (uint256 requestId);

    /**
     * @notice Delivers request `requestId`'s proven result: anyone may call, once the request is included in
     * a settled batch. Calls the request's callback with a gas cap; a failing callback emits
     * `CallbackFailed` and does not undo the fulfilment.
     * @param requestId the request
     * @param entry the trace entry (its requestId, modelId and inputHash must match the request)
     * @param index the entry's position in the batch the request was included in
     * @param path its inclusion path
     */
    function fulfill(uint256 requestId, InferenceEntry calldata entry, uint256 index, uint256[] calldata path) external;

    /**
     * @notice Takes back a request that is still pending `inclusionDelay` blocks after it was made, with its
     * fee. Only the requester.
     * @param requestId the request
     */
    function cancelRequest(uint256 requestId) external;

    /**
     * @notice Refuses a pending request the sequencer cannot prove (its input does not hash to its
     * commitment, or leaves the model's calibrated range), refunding its fee in full. Only the sequencer.
     * @param requestId the request
     * @param reason why, for the requester
     */
    function rejectRequest(uint256 requestId, string calldata reason) external;

    /**
     * @notice Sets the minimum request fee. Only the admin.
     * @param fee the new fee in wei
     */
    function setRequestFee(uint256 fee) external;

    /**
     * @notice Sends the fees the caller earned by including requests to `to`.
     * @param to the recipient
     */
    function withdrawEarnings(address payable to) external;

    /**
     * @notice What `sequencer` may withdraw: the fees of requests its batches included, and for a requester
     * whose refund could not be sent (it refused ether), that refund.
     * @param sequencer the account
     * @return the amount in wei
     */
    function earningsOf(address sequencer) external view returns (uint256);

    /**
     * @notice Model `modelId`'s oldest pending on-chain request: the next one a batch of that model must
     * include (0 if none). Reverts with `FlavumQueueBacklog` when more than 64 closed requests precede it
     * (call `advanceQueue`).
     * @param modelId the model
     * @return requestId the request, or 0
     * @return dueBlock the block from which batches must include it
     */
    function nextPendingRequest(uint256 modelId) external view returns (uint256 requestId, uint256 dueBlock);

    /**
     * @notice An on-chain request.
     * @param requestId the request
     * @return the request (zero requester if unknown)
     */
    function requestOf(uint256 requestId) external view returns (InferenceRequest memory);

    /// @notice The number of on-chain requests made; the latest request's id.
    function requestCount() external view returns (uint256);

    /// @notice The gas the callback of a fulfilment is given.
    function callbackGasLimit() external view returns (uint256);
}
