// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum model registry
 * @notice Each registered model is an ERC-721 token owned by its registrant. A token records the
 * model's commitment (shaped like the ERC-7992 draft's), the shapes and scales a dApp needs to decode
 * its outputs, a metadata URI, and one Groth16 batch verifier per batch size. A verifier, once set, is
 * immutable: a new version of a model is a new registration.
 */
interface IModelRegistry {
    /**
     * @notice What a model is, committed by hash (the ERC-7992 draft's model commitment).
     * @param weightsHash commitment to the quantized weights (a Poseidon field element)
     * @param architectureHash hash of the lowered architecture (layers, shapes, scales)
     * @param circuitHash hash of the generated circuit source
     * @param vkHash hash of the Groth16 verifying key
     * @param proofSystem identifier of the proof system, e.g. `keccak256("groth16-bn254")`
     */
    struct ModelCommitment {
        bytes32 weightsHash;
        bytes32 architectureHash;
        bytes32 circuitHash;
        bytes32 vkHash;
        bytes32 proofSystem;
    }

    /**
     * @notice The model's interface, as dApps see it.
     * @param inputShape input tensor dimensions
     * @param outputShape output tensor dimensions
     * @param inputScale the input's fixed-point scale (power-of-two exponent)
     * @param outputScale the outputs' fixed-point scale (power-of-two exponent)
     * @param outputBits width of each output in the trace's output word (1..240)
     * @param outputCount number of outputs packed into the output word
     * @param hasLabel whether the low 8 bits of the output word hold a class label (argmax)
     */
    struct ModelShape {
        uint32[] inputShape;
        uint32[] outputShape;
        int16 inputScale;
        int16 outputScale;
        uint8 outputBits;
        uint8 outputCount;
        bool hasLabel;
    }

    /// @notice Model `modelId` was minted to `owner`.
    event ModelRegistered(uint256 indexed modelId, address indexed owner, ModelCommitment commitment, string uri);
    /// @notice The verifier of `modelId` for batches of `batchSize` was set, once and for all.
    event VerifierSet(uint256 indexed modelId, uint16 indexed batchSize, address verifier);
    /// @notice The metadata URI of `modelId` changed.
    event MetadataUpdated(uint256 indexed modelId, string uri);

    /// @notice No model `modelId` has been registered.
    error FlavumUnknownModel(uint256 modelId);
    /// @notice `caller` does not own model `modelId`.
    error FlavumNotModelOwner(uint256 modelId, address caller);
    /// @notice Model `modelId` has no verifier for batches of `batchSize`.
    error FlavumVerifierNotSet(uint256 modelId, uint16 batchSize);
    /// @notice Model `modelId` already has verifier `verifier` for batches of `batchSize`; register a new version.
    error FlavumVerifierAlreadySet(uint256 modelId, uint16 batchSize, address verifier);
    /// @notice `verifier` has no code.
    error FlavumVerifierNotContract(address verifier);
    /// @notice A batch size must be a power of two from 1 to 256, got `batchSize`.
    error FlavumInvalidBatchSize(uint16 batchSize);
    /// @notice `outputCount` outputs of `outputBits` bits do not fit the output word (8 + count * bits <= 248, bits >= 1).
    error FlavumInvalidOutputLayout(uint8 outputCount, uint8 outputBits);
    /// @notice The input or output shape is empty or has a zero dimension.
    error FlavumInvalidShape();
    /// @notice The commitment's proof system id is zero.
    error FlavumMissingProofSystem();

    /**
     * @notice Registers a model and mints its token (ids 1, 2, 3, ...) to the caller.
     * @param commitment the model's commitment
     * @param shape the model's shapes, scales and output word layout
     * @param uri the metadata URI `tokenURI` returns
     * @return modelId the new model's id
     */
    function register(ModelCommitment calldata commitment, ModelShape calldata shape, string calldata uri)
        external
        returns (uint256 modelId);

    /**
     * @notice Sets the Groth16 verifier of `modelId` for batches of `batchSize`. Only the model's owner;
     * only once per (model, batch size).
     * @param modelId the model
     * @param batchSize a power of two from 1 to 256
     * @param verifier the generated verifier contract (`IGroth16Verifier`)
     */
    function setVerifier(uint256 modelId, uint16 batchSize, address verifier) external;

    /**
     * @notice Replaces the metadata URI of `modelId`. Only the model's owner.
     * @param modelId the model
     * @param uri the new URI
     */
    function setMetadataURI(uint256 modelId, string calldata uri) external;

    /**
     * @notice The verifier of `modelId` for batches of `batchSize`; reverts with `FlavumVerifierNotSet` if none.
     * @param modelId the model
     * @param batchSize the batch size
     * @return the verifier contract
     */
    function verifierOf(uint256 modelId, uint16 batchSize) external view returns (address);

    /**
     * @notice The batch sizes `modelId` has verifiers for, in the order they were set.
     * @param modelId the model
     * @return the batch sizes
     */
    function batchSizesOf(uint256 modelId) external view returns (uint16[] memory);

    /**
     * @notice The commitment of `modelId`.
     * @param modelId the model
     * @return the commitment given at registration
     */
    function commitmentOf(uint256 modelId) external view returns (ModelCommitment memory);

    /**
     * @notice The shape of `modelId`.
     * @param modelId the model
     * @return the shape given at registration
     */
    function shapeOf(uint256 modelId) external view returns (ModelShape memory);

    /**
     * @notice The output word layout of `modelId` (a cheap subset of `shapeOf`).
     * @param modelId the model
     * @return outputBits width of each output
     * @return outputCount number of outputs
     * @return hasLabel whether the low 8 bits hold a class label
     */
    function outputLayoutOf(uint256 modelId) external view returns (uint8 outputBits, uint8 outputCount, bool hasLabel);

    /**
     * @notice Whether model `modelId` exists.
     * @param modelId the model
     * @return true once registered
     */
    function isRegistered(uint256 modelId) external view returns (bool);

    /**
     * @notice The number of models registered; the latest model's id.
     * @return the count
     */
    function modelCount() external view returns (uint256);
}
