// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IModelRepository} from "../interfaces/IModelRepository.sol";

/**
 * @title ModelRegistry
 * @notice Models as ERC-721 tokens ("Flavum Model", FLVM). See {IModelRegistry}.
 */
contract ModelRegistry is ERC721, IModelRegistry {
    /// @dev The widest batch a verifier may serve: the rollup climbs at most 8 levels of a batch subtree.
    uint16 private constant MAX_BATCH_SIZE = 256;
    /// @dev The output word holds the label (8 bits) and the outputs in at most 248 bits.
    uint256 private constant OUTPUT_WORD_BITS = 248;
    /// @dev PackedHash packs floor(250 / inputBits) input values per field element.
    uint8 private constant MAX_INPUT_BITS = 250;
    /// @dev Layout bit of a published model: its batch verifiers take weightsHash as a seventh public input.
    uint256 private constant WEIGHTS_BOUND = 1 << 17;
    /// @dev Basis points of a whole fee.
    uint16 private constant MAX_BPS = 10_000;

    /// @dev A model's `Provenance`, its repository and basis points packed in one slot, the one the
    /// rollup reads on every batch of a published model.
    struct Publication {
        address repository;
        uint16 contributorBps;
        uint256 repoId;
        uint256 commitId;
    }

    uint256 private _modelCount;
    mapping(uint256 modelId => ModelCommitment) private _commitments;
    mapping(uint256 modelId => ModelShape) private _shapes;
    mapping(uint256 modelId => string) private _uris;
    /// @dev verifier | layout << 160: what a batch check needs, in one slot.
    mapping(uint256 modelId => mapping(uint16 batchSize => uint256)) private _serving;
    mapping(uint256 modelId => mapping(uint16 batchSize => bytes32)) private _codeHashes;
    mapping(uint256 modelId => uint16[]) private _batchSizes;
    mapping(uint256 modelId => Publication) private _publications;
    mapping(address repository => mapping(uint256 repoId => uint256 modelId)) private _latestPublished;

    modifier onlyModelOwner(uint256 modelId) {
        address owner = _ownerOf(modelId);
        if (owner == address(0)) revert FlavumUnknownModel(modelId);
        if (owner != msg.sender) revert FlavumNotModelOwner(modelId, msg.sender);
        _;
    }

    modifier onlyRegistered(uint256 modelId) {
        if (_ownerOf(modelId) == address(0)) revert FlavumUnknownModel(modelId);
        _;
    }

    constructor() ERC721("Flavum Model", "FLVM") {}

    /// @inheritdoc IModelRegistry
    function register(
        ModelCommitment calldata commitment,
        ModelShape calldata shape,
        string calldata uri,
        uint16[] calldata batchSizes,
        address[] calldata verifiers
    ) external returns (uint256 modelId) {
        modelId = _store(commitment, shape, uri, batchSizes, verifiers, 0);
        _mintModel(modelId, commitment, uri);
    }

    /// @inheritdoc IModelRegistry
    function publish(
        ModelCommitment calldata commitment,
        ModelShape calldata shape,
        string calldata uri,
        uint16[] calldata batchSizes,
        address[] calldata verifiers,
        Provenance calldata provenance
    ) external returns (uint256 modelId) {
        _checkProvenance(commitment.weightsHash, provenance);
        modelId = _store(commitment, shape, uri, batchSizes, verifiers, WEIGHTS_BOUND);
        address repository = provenance.repository;
        _publications[modelId] =
            Publication(repository, provenance.contributorBps, provenance.repoId, provenance.commitId);
        _latestPublished[repository][provenance.repoId] = modelId;
        // Everything is recorded before the mint: its receiver hook sees the model published.
        _mintModel(modelId, commitment, uri);
        emit ModelPublished(
            modelId,
            repository,
            provenance.repoId,
            provenance.commitId,
            commitment.weightsHash,
            provenance.contributorBps
        );
    }

    /**
     * @dev The repository vouches for the caller's role and the commit's weights: the registry does not
     * take the publisher's word for either.
     */
    function _checkProvenance(bytes32 weightsHash, Provenance calldata provenance) private view {
        if (provenance.contributorBps > MAX_BPS) revert FlavumInvalidContributorBps(provenance.contributorBps);
        IModelRepository repo = IModelRepository(provenance.repository);
        if (address(repo).code.length == 0) revert FlavumRepositoryNotContract(address(repo));
        uint256 repoId = provenance.repoId;
        if (repo.roleOf(repoId, msg.sender) < IModelRepository.Role.Maintainer) {
            revert FlavumNotRepositoryMaintainer(address(repo), repoId, msg.sender);
        }
        uint256 commitId = provenance.commitId;
        IModelRepository.Commit memory c = repo.commit(commitId);
        if (c.repoId != repoId) revert FlavumCommitNotInRepository(commitId, c.repoId, repoId);
        // Proposed and Rejected commits were never accepted into any branch's history.
        if (c.status != IModelRepository.CommitStatus.Accepted && c.status != IModelRepository.CommitStatus.Merged) {
            revert FlavumCommitNotPublishable(commitId, c.status);
        }
        if (c.weightsHash != weightsHash) revert FlavumWeightsNotCommit(commitId, c.weightsHash, weightsHash);
    }

    /// @dev Checks and stores a registration; `flags` are layout bits above the output layout.
    function _store(
        ModelCommitment calldata commitment,
        ModelShape calldata shape,
        string calldata uri,
        uint16[] calldata batchSizes,
        address[] calldata verifiers,
        uint256 flags
    ) private returns (uint256 modelId) {
        if (commitment.proofSystem == bytes32(0)) revert FlavumMissingProofSystem();
        _checkDims(shape.inputShape);
        _checkDims(shape.outputShape);
        if (shape.inputBits == 0 || shape.inputBits > MAX_INPUT_BITS) revert FlavumInvalidInputBits(shape.inputBits);
        if (shape.outputBits == 0 || 8 + uint256(shape.outputCount) * shape.outputBits > OUTPUT_WORD_BITS) {
            revert FlavumInvalidOutputLayout(shape.outputCount, shape.outputBits);
        }
        if (batchSizes.length == 0 || batchSizes.length != verifiers.length) {
            revert FlavumVerifierCount(batchSizes.length, verifiers.length);
        }

        modelId = ++_modelCount;
        _commitments[modelId] = commitment;
        _shapes[modelId] = shape;
        _uris[modelId] = uri;
        uint256 layout = uint256(shape.outputBits) | (uint256(shape.outputCount) << 8)
            | ((shape.hasLabel ? uint256(1) : 0) << 16) | flags;
        for (uint256 i; i < batchSizes.length; ++i) {
            _setVerifier(modelId, batchSizes[i], verifiers[i], layout);
        }
    }

    function _mintModel(uint256 modelId, ModelCommitment calldata commitment, string calldata uri) private {
        _safeMint(msg.sender, modelId);
        emit ModelRegistered(modelId, msg.sender, commitment, uri);
    }

    function _setVerifier(uint256 modelId, uint16 batchSize, address verifier, uint256 layout) private {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE || batchSize & (batchSize - 1) != 0) {
            revert FlavumInvalidBatchSize(batchSize);
        }
        if (_serving[modelId][batchSize] != 0) revert FlavumDuplicateBatchSize(batchSize);
        if (verifier.code.length == 0) revert FlavumVerifierNotContract(verifier);
        bytes32 codeHash = verifier.codehash;
        _serving[modelId][batchSize] = uint256(uint160(verifier)) | (layout << 160);
        _codeHashes[modelId][batchSize] = codeHash;
        _batchSizes[modelId].push(batchSize);
        emit VerifierSet(modelId, batchSize, verifier, codeHash);
    }

    /// @inheritdoc IModelRegistry
    function setMetadataURI(uint256 modelId, string calldata uri) external onlyModelOwner(modelId) {
        _uris[modelId] = uri;
        emit MetadataUpdated(modelId, uri);
    }

    /// @inheritdoc IModelRegistry
    function verifierOf(uint256 modelId, uint16 batchSize) external view returns (address verifier) {
        (verifier,) = servingOf(modelId, batchSize);
    }

    /// @inheritdoc IModelRegistry
    function servingOf(uint256 modelId, uint16 batchSize) public view returns (address verifier, uint256 layout) {
        uint256 word = _serving[modelId][batchSize];
        if (word == 0) revert FlavumVerifierNotSet(modelId, batchSize);
        return (address(uint160(word)), word >> 160);
    }

    /// @inheritdoc IModelRegistry
    function verifierCodeHashOf(uint256 modelId, uint16 batchSize) external view returns (bytes32) {
        return _codeHashes[modelId][batchSize];
    }

    /// @inheritdoc IModelRegistry
    function batchSizesOf(uint256 modelId) external view onlyRegistered(modelId) returns (uint16[] memory) {
        return _batchSizes[modelId];
    }

    /// @inheritdoc IModelRegistry
    function commitmentOf(uint256 modelId) external view onlyRegistered(modelId) returns (ModelCommitment memory) {
        return _commitments[modelId];
    }

    /// @inheritdoc IModelRegistry
    function shapeOf(uint256 modelId) external view onlyRegistered(modelId) returns (ModelShape memory) {
        return _shapes[modelId];
    }

    /// @inheritdoc IModelRegistry
    function outputLayoutOf(uint256 modelId)
        external
        view
        onlyRegistered(modelId)
        returns (uint8 outputBits, uint8 outputCount, bool hasLabel)
    {
        ModelShape storage s = _shapes[modelId];
        return (s.outputBits, s.outputCount, s.hasLabel);
    }

    /// @inheritdoc IModelRegistry
    function inputLayoutOf(uint256 modelId)
        external
        view
        onlyRegistered(modelId)
        returns (uint256 inputSize, int16 inputScale, uint8 inputBits)
    {
        ModelShape storage s = _shapes[modelId];
        inputSize = 1;
        for (uint256 i; i < s.inputShape.length; ++i) inputSize *= s.inputShape[i];
        return (inputSize, s.inputScale, s.inputBits);
    }

    /// @inheritdoc IModelRegistry
    function provenanceOf(uint256 modelId) external view returns (Provenance memory) {
        Publication storage p = _publications[modelId];
        return Provenance(p.repository, p.repoId, p.commitId, p.contributorBps);
    }

    /// @inheritdoc IModelRegistry
    function latestPublished(address repository, uint256 repoId)
        external
        view
        returns (uint256 modelId, uint256 commitId)
    {
        modelId = _latestPublished[repository][repoId];
        commitId = _publications[modelId].commitId;
    }

    /// @inheritdoc IModelRegistry
    function isPublishedHead(uint256 modelId, address repository, uint256 repoId)
        external
        view
        returns (bool isHead, uint256 commitId)
    {
        Publication storage p = _publications[modelId];
        if (p.repository == address(0) || p.repository != repository || p.repoId != repoId) return (false, 0);
        commitId = p.commitId;
        isHead = IModelRepository(repository).head(repoId, "main") == commitId;
    }

    /// @inheritdoc IModelRegistry
    function weightsBindingOf(uint256 modelId) external view returns (bytes32 weightsHash, uint16 contributorBps) {
        Publication storage p = _publications[modelId];
        if (p.repository == address(0)) return (bytes32(0), 0);
        return (_commitments[modelId].weightsHash, p.contributorBps);
    }

    /// @inheritdoc IModelRegistry
    function isRegistered(uint256 modelId) external view returns (bool) {
        return _ownerOf(modelId) != address(0);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /**
     * @notice The metadata URI of `modelId`.
     * @param modelId the model (reverts with `ERC721NonexistentToken` if unknown)
     * @return the URI last set at registration or by `setMetadataURI`
     */
    function tokenURI(uint256 modelId) public view override returns (string memory) {
        _requireOwned(modelId);
        return _uris[modelId];
    }

    function _checkDims(uint32[] calldata dims) private pure {
        if (dims.length == 0) revert FlavumInvalidShape();
        for (uint256 i; i < dims.length; ++i) {
            if (dims[i] == 0) revert FlavumInvalidShape();
        }
    }
}
