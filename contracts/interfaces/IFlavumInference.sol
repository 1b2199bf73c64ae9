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

    /**
     * @notice An on-chain request.
     * @param inputHash the requester's input commitment
     * @param requester who paid for it
     * @param modelId the model asked
     * @param fulfilled whether it has been fulfilled
     * @param callback the `IFlavumConsumer` to call back, or zero
     */
    struct InferenceRequest {
        uint256 inputHash;
        address requester;
        uint64 modelId;
        bool fulfilled;
        address callback;
    }

    /// @notice `requester` asked model `modelId` for an inference on `input`, committed as `inputHash`.
    event InferenceRequested(
        uint256 indexed requestId,
        uint256 indexed modelId,
        uint256 inputHash,
        bytes input,
        address callback
    );
    /// @notice Request `requestId` was proven in batch `batchId` with output `outputWord`.
    event InferenceFulfilled(uint256 indexed requestId, uint256 indexed batchId, uint256 modelId, uint256 outputWord);
    /// @notice The callback `callback` of request `requestId` reverted, ran out of gas or has no code.
    event CallbackFailed(uint256 indexed requestId, address indexed callback);
    /// @notice The request fee changed from `previous` to `fee`.
    event RequestFeeSet(uint256 previous, uint256 fee);
    /// @notice `amount` of accrued fees was sent to `to`.
    event FeesWithdrawn(address indexed to, uint256 amount);

    /// @notice The request fee is `fee`, but `paid` was sent.
    error FlavumInsufficientFee(uint256 paid, uint256 fee);
    /// @notice No model `modelId` can be asked (unregistered, or wider than 64 bits).
    error FlavumUnknownRequestModel(uint256 modelId);
    /// @notice `value` is not a canonical BN254 field element.
    error FlavumNotFieldElement(uint256 value);
    /// @notice No on-chain request `requestId` exists.
    error FlavumUnknownRequest(uint256 requestId);
    /// @notice Request `requestId` was already fulfilled.
    error FlavumAlreadyFulfilled(uint256 requestId);
    /// @notice The entry's request id, model or input commitment differ from request `requestId`'s.
    error FlavumEntryMismatch(uint256 requestId);
    /// @notice The entry of request `requestId` is not at the given index of batch `batchId`.
    error FlavumInclusionNotProven(uint256 requestId, uint256 batchId);
    /// @notice Fulfilling with a callback needs `needed` gas left, only `available` was.
    error FlavumInsufficientCallbackGas(uint256 available, uint256 needed);

    /**
     * @notice Whether `entry` is leaf `index` of batch `batchId`'s subtree: its leaf climbed with
     * `path` (siblings from the leaf up; bit k of `index` set means the node is a right child at level
     * k) equals the batch root. False, never a revert, for an unknown batch, a non-canonical field,
     * an index wider than the path, a path longer than 8 or a mismatch.
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
     * @notice Asks for an inference of `modelId` on `input`. Pays at least `estimateFee` (any excess stays
     * with the rollup as fee). Ids are 1, 2, 3, ...
     * @param modelId a registered model
     * @param inputHash the Poseidon commitment to `input`, as the model's circuit computes it
     * @param input the input, for the sequencer (emitted, not stored)
     * @param callback an `IFlavumConsumer` to call on fulfilment, or zero
     * @return requestId the request's id
     */
    function requestInference(uint256 modelId, uint256 inputHash, bytes calldata input, address callback)
        external
        payable
        returns (uint256 requestId);

    /**
     * @notice Fulfils request `requestId` with its proven entry; anyone may call. Calls the request's
     * callback with a gas cap; a failing callback emits `CallbackFailed` and does not undo the fulfilment.
     * @param requestId the request
     * @param batchId the batch holding the entry
     * @param entry the trace entry (its requestId, modelId and inputHash must match the request)
     * @param index the entry's position in the batch
     * @param path its inclusion path
     */
    function fulfill(
        uint256 requestId,
        uint256 batchId,
        InferenceEntry calldata entry,
        uint256 index,
        uint256[] calldata path
    ) external;

    /**
     * @notice Sets the request fee. Only the admin.
     * @param fee the new fee in wei
     */
    function setRequestFee(uint256 fee) external;

    /**
     * @notice Sends all accrued fees to `to`. Only the admin.
     * @param to the recipient
     */
    function withdrawFees(address payable to) external;

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
