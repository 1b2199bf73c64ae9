// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

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

    uint256 private _modelCount;
    mapping(uint256 modelId => ModelCommitment) private _commitments;
    mapping(uint256 modelId => ModelShape) private _shapes;
    mapping(uint256 modelId => string) private _uris;
    /// @dev verifier | layout << 160: what a batch check needs, in one slot.
    mapping(uint256 modelId => mapping(uint16 batchSize => uint256)) private _serving;
    mapping(uint256 modelId => mapping(uint16 batchSize => bytes32)) private _codeHashes;
    mapping(uint256 modelId => uint16[]) private _batchSizes;

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
        uint256 layout =
            uint256(shape.outputBits) | (uint256(shape.outputCount) << 8) | ((shape.hasLabel ? uint256(1) : 0) << 16);
        for (uint256 i; i < batchSizes.length; ++i) {
            _setVerifier(modelId, batchSizes[i], verifiers[i], layout);
        }
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
