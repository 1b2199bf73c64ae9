// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRepository} from "./IModelRepository.sol";

/**
 * @title Flavum model registry
 * @notice Each registered model is an ERC-721 token owned by its registrant. A token records the
 * model's commitment (shaped like the ERC-7992 draft's), the shapes and scales a dApp needs to decode
 * its outputs, a metadata URI, and one Groth16 batch verifier per batch size, all fixed at
 * registration together with each verifier's code hash: nobody, the owner included, can add or swap
 * a verifier later, and anyone can check that the code behind each one is what the committed
 * verifying key generates (`model:audit`). A new version of a model is a new registration.
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
     * @notice The model's interface, as dApps see it: enough to encode an input for `requestInference`,
     * compute its `inputHash`, and decode the outputs (see `IFlavumInference.requestInference`).
     * @param inputShape input tensor dimensions (row-major; the input has their product of values)
     * @param outputShape output tensor dimensions
     * @param inputScale the input's fixed-point scale: a real x is the integer round(x * 2^inputScale)
     * @param outputScale the outputs' fixed-point scale (power-of-two exponent)
     * @param inputBits signed width of each quantized input value, [-2^(inputBits-1), 2^(inputBits-1));
     * also the packing width of the input hash (1..250)
     * @param outputBits width of each output in the trace's output word (1..240)
     * @param outputCount number of outputs packed into the output word
     * @param hasLabel whether the low 8 bits of the output word hold a class label (argmax)
     */
    struct ModelShape {
        uint32[] inputShape;
        uint32[] outputShape;
        int16 inputScale;
        int16 outputScale;
        uint8 inputBits;
        uint8 outputBits;
        uint8 outputCount;
        bool hasLabel;
    }

    /**
     * @notice Where a published model's weights come from, and the inference fees its history earns.
     * @param repository the `IModelRepository` contract
     * @param repoId the repository within it
     * @param commitId the commit whose weights the model serves
     * @param contributorBps basis points (0..10000) of each inference fee that go to the contributors of the
     * commit's history
     */
    struct Provenance {
        address repository;
        uint256 repoId;
        uint256 commitId;
        uint16 contributorBps;
    }

    /// @notice Model `modelId` was minted to `owner`.
    event ModelRegistered(uint256 indexed modelId, address indexed owner, ModelCommitment commitment, string uri);
    /// @notice The verifier of `modelId` for batches of `batchSize`, with code hash `codeHash`, was fixed at
    /// registration.
    event VerifierSet(uint256 indexed modelId, uint16 indexed batchSize, address verifier, bytes32 codeHash);
    /// @notice The metadata URI of `modelId` changed.
    event MetadataUpdated(uint256 indexed modelId, string uri);
    /// @notice Model `modelId` serves the weights `weightsHash` of commit `commitId` of repository `repoId` of
    /// `repository`; `contributorBps` of each of its inference fees go to that commit's history.
    event ModelPublished(
        uint256 indexed modelId,
        address indexed repository,
        uint256 indexed repoId,
        uint256 commitId,
        bytes32 weightsHash,
        uint16 contributorBps
    );

    /// @notice No model `modelId` has been registered.
    error FlavumUnknownModel(uint256 modelId);
    /// @notice `caller` does not own model `modelId`.
    error FlavumNotModelOwner(uint256 modelId, address caller);
    /// @notice Model `modelId` has no verifier for batches of `batchSize`.
    error FlavumVerifierNotSet(uint256 modelId, uint16 batchSize);
    /// @notice Batch size `batchSize` appears twice in one registration.
    error FlavumDuplicateBatchSize(uint16 batchSize);
    /// @notice A registration needs at least one verifier, and as many verifiers (`verifiers`) as batch
    /// sizes (`batchSizes`).
    error FlavumVerifierCount(uint256 batchSizes, uint256 verifiers);
    /// @notice `verifier` has no code.
    error FlavumVerifierNotContract(address verifier);
    /// @notice A batch size must be a power of two from 1 to 256, got `batchSize`.
    error FlavumInvalidBatchSize(uint16 batchSize);
    /// @notice `outputCount` outputs of `outputBits` bits do not fit the output word (8 + count * bits <= 248, bits >= 1).
    error FlavumInvalidOutputLayout(uint8 outputCount, uint8 outputBits);
    /// @notice Input values must be 1..250 bits wide (the input hash packs them into 250-bit words), got `inputBits`.
    error FlavumInvalidInputBits(uint8 inputBits);
    /// @notice The input or output shape is empty or has a zero dimension.
    error FlavumInvalidShape();
    /// @notice The commitment's proof system id is zero.
    error FlavumMissingProofSystem();
    /// @notice `repository` has no code: provenance must name a model repository contract.
    error FlavumRepositoryNotContract(address repository);
    /// @notice `account` is not a maintainer or owner of repository `repoId` of `repository`.
    error FlavumNotRepositoryMaintainer(address repository, uint256 repoId, address account);
    /// @notice Commit `commitId` belongs to repository `commitRepoId`, not to `repoId`.
    error FlavumCommitNotInRepository(uint256 commitId, uint256 commitRepoId, uint256 repoId);
    /// @notice Commit `commitId` is `status`: only Accepted or Merged commits can be published.
    error FlavumCommitNotPublishable(uint256 commitId, IModelRepository.CommitStatus status);
    /// @notice Commit `commitId` has weights `expected`, the commitment names `given`.
    error FlavumWeightsNotCommit(uint256 commitId, bytes32 expected, bytes32 given);
    /// @notice The contributors' share of a fee is at most 10000 basis points, got `contributorBps`.
    error FlavumInvalidContributorBps(uint16 contributorBps);

    /**
     * @notice Registers a model with its verifiers and mints its token (ids 1, 2, 3, ...) to the caller.
     * The verifiers are fixed here, once and for all.
     * @param commitment the model's commitment
     * @param shape the model's shapes, scales and output word layout
     * @param uri the metadata URI `tokenURI` returns
     * @param batchSizes the batch sizes served, each a power of two from 1 to 256, no repeats
     * @param verifiers the generated verifier contract (`IGroth16Verifier`) for each batch size
     * @return modelId the new model's id
     */
    function register(
        ModelCommitment calldata commitment,
        ModelShape calldata shape,
        string calldata uri,
        uint16[] calldata batchSizes,
        address[] calldata verifiers
    ) external returns (uint256 modelId);

    /**
     * @notice Registers, as `register` does, a model serving the weights of commit `provenance.commitId` of
     * repository `provenance.repoId` of `provenance.repository`, and records that provenance. The caller
     * must be a maintainer or owner of the repository; the commit must belong to it, be Accepted or Merged,
     * and have the commitment's weightsHash. The model's layout word gets bit 17 (`servingOf`): its
     * verifiers must be circuits with the seventh public input weightsHash, which the rollup supplies from
     * here (`weightsBindingOf`), so the registered weights are checked to be the commit's on every batch.
     * Becomes the repository's `latestPublished`.
     * @param commitment the model's commitment; `weightsHash` must be the commit's
     * @param shape the model's shapes, scales and output word layout
     * @param uri the metadata URI `tokenURI` returns
     * @param batchSizes the batch sizes served, each a power of two from 1 to 256, no repeats
     * @param verifiers the generated 7-input verifier (`ICommittedBatchVerifier`) for each batch size
     * @param provenance the repository, repository id and commit, and the contributors' basis points (<= 10000)
     * @return modelId the new model's id
     */
    function publish(
        ModelCommitment calldata commitment,
        ModelShape calldata shape,
        string calldata uri,
        uint16[] calldata batchSizes,
        address[] calldata verifiers,
        Provenance calldata provenance
    ) external returns (uint256 modelId);

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
     * @notice What the rollup needs to check a batch of `modelId`: its verifier for `batchSize` and its
     * layout word `outputBits | outputCount << 8 | hasLabel << 16 | weightsBound << 17` (one storage read).
     * Bits 0..16 are the output layout the batch circuit checks in its meta input; bit 17 (set for a
     * published model) says the batch verifiers take a seventh public input, the model's weightsHash
     * (`weightsBindingOf`), and is not part of meta.
     * Reverts with `FlavumVerifierNotSet` if the model serves no such batch size.
     * @param modelId the model
     * @param batchSize the batch size
     * @return verifier the verifier contract
     * @return layout the output layout word the batch circuit checks, with bit 17 for a published model
     */
    function servingOf(uint256 modelId, uint16 batchSize) external view returns (address verifier, uint256 layout);

    /**
     * @notice The code hash (`extcodehash`) the verifier of `modelId` for `batchSize` had at registration.
     * @param modelId the model
     * @param batchSize the batch size
     * @return the code hash (zero if no such verifier)
     */
    function verifierCodeHashOf(uint256 modelId, uint16 batchSize) external view returns (bytes32);

    /**
     * @notice The batch sizes `modelId` has verifiers for, in registration order.
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
     * @notice What encoding an input of `modelId` takes (a cheap subset of `shapeOf`).
     * @param modelId the model
     * @return inputSize number of input values (the product of `inputShape`)
     * @return inputScale fixed-point scale of each value (a real x is round(x * 2^inputScale))
     * @return inputBits signed width of each value and packing width of the input hash
     */
    function inputLayoutOf(uint256 modelId) external view returns (uint256 inputSize, int16 inputScale, uint8 inputBits);

    /**
     * @notice Whether model `modelId` exists.
     * @param modelId the model
     * @return true once registered
     */
    function isRegistered(uint256 modelId) external view returns (bool);

    /**
     * @notice Where the weights of `modelId` come from (all zero for a model registered with `register`, or
     * unknown).
     * @param modelId the model
     * @return the provenance given to `publish`
     */
    function provenanceOf(uint256 modelId) external view returns (Provenance memory);

    /**
     * @notice The model last published from repository `repoId` of `repository`, and its commit.
     * @param repository the repository contract
     * @param repoId the repository
     * @return modelId the latest published model (0 if none)
     * @return commitId its commit (0 if none)
     */
    function latestPublished(address repository, uint256 repoId) external view returns (uint256 modelId, uint256 commitId);

    /**
     * @notice Whether `modelId` was published from repository `repoId` of `repository` and its commit is
     * that repository's `main` head now.
     * @param modelId the model
     * @param repository the repository contract
     * @param repoId the repository
     * @return isHead true iff both hold
     * @return commitId the model's commit (0 if it was not published from that repository)
     */
    function isPublishedHead(uint256 modelId, address repository, uint256 repoId)
        external
        view
        returns (bool isHead, uint256 commitId);

    /**
     * @notice What the rollup needs for a published model: the weights its batch proofs must be made with
     * (their seventh public input) and the contributors' basis points of each fee. Zero for other models.
     * @param modelId the model
     * @return weightsHash the published commit's weights (0 if not published)
     * @return contributorBps the contributors' basis points (0 if not published)
     */
    function weightsBindingOf(uint256 modelId) external view returns (bytes32 weightsHash, uint16 contributorBps);

    /**
     * @notice The number of models registered; the latest model's id.
     * @return the count
     */
    function modelCount() external view returns (uint256);
}
