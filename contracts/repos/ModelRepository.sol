// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IModelRepository} from "../interfaces/IModelRepository.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ITrainingVerifier} from "../interfaces/IRepositoryVerifiers.sol";

/**
 * @title ModelRepository
 * @notice Model repositories with proven training commits, branches, proven merges (FedAvg, median or trimmed mean) and reverts;
 * repositories and commits are ERC-721 tokens ("Flavum Repository Commit", FLVC) of one id sequence.
 * See {IModelRepository}.
 */
contract ModelRepository is ERC721, IModelRepository {
    /// @dev BN254 scalar field modulus: every public input of a Groth16 proof is below it.
    uint256 private constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 private constant MAX_NAME_BYTES = 64;
    /// @dev Commits one merge may combine (its verifiers: `mergeVerifiers[k - 2]`, k = 2 … MAX_MERGE).
    uint256 private constant MAX_MERGE = 8;
    /// @dev Training proofs one commit may chain: at ~0.25M gas a link (a pairing check with 5 public
    /// inputs and a one-use record), 64 links stay near half of a 30M-gas block.
    uint256 private constant MAX_CHAIN_LENGTH = 64;
    /// @dev Entries a paginated view returns at most: a page stays far below any node's call gas cap.
    uint256 private constant MAX_PAGE = 256;
    string private constant MAIN = "main";
    bytes32 private constant MAIN_KEY = keccak256("main");

    /**
     * @dev A commit in four slots (a training commit writes exactly these): author, samples, correct |
     * repository, first parent, revertOf, branch index, kind, status, proofs | weights | data. Only merge
     * commits use `merged` (their parents after the first). The content id is not stored: `_contentId`
     * derives it from these fields (`_commitByContent` maps it back).
     */
    struct StoredCommit {
        address author;
        uint64 samples;
        uint32 correct;
        uint64 repoId;
        uint64 parent;
        uint64 revertOf;
        uint32 branchIndex;
        CommitKind kind;
        CommitStatus status;
        uint16 proofs;
        bytes32 weightsHash;
        bytes32 dataHash;
        uint64[] merged;
    }

    /// @dev A branch in one slot; `index` is its position in `_branchNames`.
    struct StoredBranch {
        uint64 head;
        address creator;
        uint32 index;
    }

    uint256 private _tokenCount;
    mapping(uint256 repoId => Repository) private _repos;
    mapping(bytes32 nameKey => uint256 repoId) private _repoByName;
    mapping(uint256 repoId => mapping(address account => Role)) private _roles;
    mapping(uint256 repoId => mapping(bytes32 nameKey => StoredBranch)) private _branches;
    mapping(uint256 repoId => string[]) private _branchNames;
    mapping(uint256 commitId => StoredCommit) private _commits;
    mapping(uint256 repoId => uint64[]) private _commitIds;
    mapping(uint256 commitId => string) private _commitURIs;
    /// @dev keccak256(repoId, parent weights, dataHash) → the training commit one of whose links used the pair.
    mapping(bytes32 useKey => uint256 commitId) private _trainingUses;
    /// @dev A commit's content id → its token id (see IModelRepository, "Commit ids").
    mapping(bytes32 contentId => uint256 commitId) private _commitByContent;

    constructor() ERC721("Flavum Repository Commit", "FLVC") {}

    // ------------------------------------------------------------------ repositories and roles

    /// @inheritdoc IModelRepository
    function createRepository(
        string calldata name,
        bytes32 weightsHash,
        bytes32 architectureHash,
        address trainVerifier,
        address[MAX_MERGE - 1] calldata mergeVerifiers,
        string calldata uri
    ) external returns (uint256 repoId) {
        bytes32 key = _nameKey(name);
        if (_repoByName[key] != 0) revert FlavumDuplicateName(name, _repoByName[key]);
        _checkField(weightsHash);
        _checkVerifier(trainVerifier);
        for (uint256 i; i < MAX_MERGE - 1; ++i) {
            if (mergeVerifiers[i] != address(0)) _checkVerifier(mergeVerifiers[i]);
        }

        repoId = ++_tokenCount;
        Repository storage r = _repos[repoId];
        r.name = name;
        r.architectureHash = architectureHash;
        r.trainVerifier = trainVerifier;
        r.mergeVerifiers = mergeVerifiers;
        r.uri = uri;
        _repoByName[key] = repoId;

        _branchNames[repoId].push(MAIN);
        (uint256 initial,) = _newCommit(repoId, CommitKind.Initial, CommitStatus.Accepted, weightsHash, 0, 0);
        r.initialCommit = initial;
        _branches[repoId][MAIN_KEY] = StoredBranch(uint64(initial), msg.sender, 0);
        _identify(repoId, initial);

        _emitCreated(repoId, weightsHash);
        emit BranchCreated(repoId, initial, msg.sender, MAIN);
        emit HeadMoved(repoId, initial, MAIN, 0);
        _safeMint(msg.sender, repoId);
        _safeMint(msg.sender, initial);
    }

    /// @inheritdoc IModelRepository
    function invite(uint256 repoId, address account, Role role) external {
        Role callerRole = _requireRole(repoId, Role.Maintainer);
        if (account == address(0)) revert FlavumZeroAddress("account");
        if (role == Role.None) revert FlavumInvalidRole(role);
        if (account == _ownerOf(repoId)) revert FlavumTokenHolderRole(repoId, account);
        if (callerRole != Role.Owner && (role != Role.Contributor || _roles[repoId][account] > Role.Contributor)) {
            revert FlavumMissingRole(repoId, msg.sender, Role.Owner);
        }
        _roles[repoId][account] = role;
        emit CollaboratorInvited(repoId, account, role, msg.sender);
    }

    /// @inheritdoc IModelRepository
    function revoke(uint256 repoId, address account) external {
        Role callerRole = _requireRole(repoId, Role.Maintainer);
        if (account == _ownerOf(repoId)) revert FlavumTokenHolderRole(repoId, account);
        Role previous = _roles[repoId][account];
        if (previous == Role.None) revert FlavumNoRole(repoId, account);
        if (previous > Role.Contributor && callerRole != Role.Owner) {
            revert FlavumMissingRole(repoId, msg.sender, Role.Owner);
        }
        delete _roles[repoId][account];
        emit CollaboratorRevoked(repoId, account, previous, msg.sender);
    }

    // ------------------------------------------------------------------ branches and commits

    /// @inheritdoc IModelRepository
    function createBranch(uint256 repoId, string calldata name, uint256 fromCommit) external {
        _requireRole(repoId, Role.Contributor);
        bytes32 key = _nameKey(name);
        if (_branches[repoId][key].head != 0) revert FlavumBranchExists(repoId, name);
        _requireBase(_commitOf(repoId, fromCommit), fromCommit);
        _branches[repoId][key] = StoredBranch(uint64(fromCommit), msg.sender, uint32(_branchNames[repoId].length));
        _branchNames[repoId].push(name);
        emit BranchCreated(repoId, fromCommit, msg.sender, name);
    }

    /// @inheritdoc IModelRepository
    function pushCommit(
        uint256 repoId,
        string calldata branchName,
        uint256 parentCommit,
        TrainingLink[] calldata chain,
        string calldata metricsURI
    ) external returns (uint256 commitId) {
        {
            StoredBranch storage br = _writableBranch(repoId, branchName);
            if (br.head != parentCommit) revert FlavumStaleParent(repoId, br.head, parentCommit);
        }
        uint256 length = chain.length;
        if (length == 0 || length > MAX_CHAIN_LENGTH) revert FlavumInvalidChainLength(length, MAX_CHAIN_LENGTH);
        bytes32 parentWeights = _requireBase(_commits[parentCommit], parentCommit).weightsHash;
        // The id _recordTrain will give the commit: its links' pairs are spent in its name.
        commitId = _tokenCount + 1;
        (bytes32 dataHash, uint256 samples, uint256 correct) = _spendChain(repoId, parentWeights, chain, commitId);
        _verifyChain(repoId, parentCommit, parentWeights, chain);
        // samples < 2^32 (_spendChain) and correct <= samples.
        _recordTrain(
            repoId, branchName, parentCommit, chain[length - 1].newWeightsHash, dataHash, uint32(samples), uint32(correct)
        );
        _commits[commitId].proofs = uint16(length);
        _identify(repoId, commitId);
        if (bytes(metricsURI).length != 0) _commitURIs[commitId] = metricsURI;
        _emitPushed(commitId, branchName, metricsURI);
        _safeMint(msg.sender, commitId);
    }

    /// @inheritdoc IModelRepository
    function merge(
        uint256 repoId,
        string calldata targetBranch,
        uint256[] calldata commits,
        bytes32 newWeightsHash,
        Proof calldata proof
    ) external returns (uint256 mergeCommit) {
        _requireRole(repoId, Role.Maintainer);
        uint256 k = commits.length;
        if (k == 0 || k > MAX_MERGE) revert FlavumInvalidMergeCount(k);
        StoredBranch storage br = _branch(repoId, targetBranch);

        if (k == 1) {
            mergeCommit = commits[0];
            StoredCommit storage only = _takeProposed(repoId, mergeCommit, br.head);
            if (only.weightsHash != newWeightsHash) {
                revert FlavumWeightsMismatch(mergeCommit, only.weightsHash, newWeightsHash);
            }
            _moveHead(repoId, br, targetBranch, mergeCommit);
            emit Merged(repoId, mergeCommit, msg.sender, targetBranch, commits, newWeightsHash, only.samples);
            return mergeCommit;
        }

        uint64 total = _verifyMerge(repoId, commits, newWeightsHash, br.head, proof);
        mergeCommit = _recordMerge(repoId, targetBranch, commits, newWeightsHash, total);
        _identify(repoId, mergeCommit);
        _safeMint(msg.sender, mergeCommit);
    }

    /// @inheritdoc IModelRepository
    function reject(uint256 repoId, uint256 commitId, string calldata reason) external {
        _requireRole(repoId, Role.Maintainer);
        StoredCommit storage cm = _commitOf(repoId, commitId);
        if (cm.status != CommitStatus.Proposed) revert FlavumWrongCommitStatus(commitId, cm.status);
        cm.status = CommitStatus.Rejected;
        emit CommitRejected(repoId, commitId, msg.sender, reason);
    }

    /// @inheritdoc IModelRepository
    function revertTo(uint256 repoId, string calldata branchName, uint256 toCommit)
        external
        returns (uint256 commitId)
    {
        _requireRole(repoId, Role.Maintainer);
        StoredBranch storage br = _branch(repoId, branchName);
        bytes32 weights = _requireBase(_commitOf(repoId, toCommit), toCommit).weightsHash;
        if (br.head == toCommit) revert FlavumNothingToRevert(repoId, branchName, toCommit);

        StoredCommit storage cm;
        (commitId, cm) = _newCommit(repoId, CommitKind.Revert, CommitStatus.Accepted, weights, br.index, br.head);
        cm.revertOf = uint64(toCommit);
        _identify(repoId, commitId);

        _moveHead(repoId, br, branchName, commitId);
        emit Reverted(repoId, commitId, msg.sender, branchName, toCommit);
        _safeMint(msg.sender, commitId);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IModelRepository
    function repository(uint256 repoId) external view returns (Repository memory) {
        _requireRepo(repoId);
        return _repos[repoId];
    }

    /// @inheritdoc IModelRepository
    function commit(uint256 commitId) external view returns (Commit memory c) {
        StoredCommit storage cm = _commits[commitId];
        if (cm.repoId == 0) revert FlavumUnknownCommit(0, commitId);
        c.id = commitId;
        c.repoId = cm.repoId;
        c.author = cm.author;
        c.kind = cm.kind;
        c.status = cm.status;
        c.branch = _branchNames[cm.repoId][cm.branchIndex];
        c.weightsHash = cm.weightsHash;
        c.dataHash = cm.dataHash;
        c.samples = cm.samples;
        c.correct = cm.correct;
        c.revertOf = cm.revertOf;
        c.proofs = cm.proofs;
        c.contentId = _contentId(commitId);
        if (cm.kind != CommitKind.Initial) {
            uint256 extra = cm.merged.length;
            c.parents = new uint256[](1 + extra);
            c.parents[0] = cm.parent;
            for (uint256 i; i < extra; ++i) {
                c.parents[1 + i] = cm.merged[i];
            }
        }
    }

    /// @inheritdoc IModelRepository
    function head(uint256 repoId, string calldata name) external view returns (uint256) {
        return _branch(repoId, name).head;
    }

    /// @inheritdoc IModelRepository
    function branchInfo(uint256 repoId, string calldata name) external view returns (Branch memory) {
        StoredBranch storage br = _branch(repoId, name);
        return Branch(br.head, br.creator);
    }

    /// @inheritdoc IModelRepository
    function branchesOf(uint256 repoId, uint256 offset, uint256 limit)
        external
        view
        returns (string[] memory names, uint256[] memory heads, uint256 total)
    {
        _requireRepo(repoId);
        string[] storage all = _branchNames[repoId];
        total = all.length;
        uint256 n = _pageLength(total, offset, limit);
        names = new string[](n);
        heads = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            names[i] = all[offset + i];
            heads[i] = _branches[repoId][keccak256(bytes(names[i]))].head;
        }
    }

    /// @inheritdoc IModelRepository
    function commitsOf(uint256 repoId, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 total)
    {
        _requireRepo(repoId);
        uint64[] storage stored = _commitIds[repoId];
        total = stored.length;
        uint256 n = _pageLength(total, offset, limit);
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = stored[offset + i];
        }
    }

    /// @inheritdoc IModelRepository
    function trainingBinding(uint256 repoId, address author) external view returns (uint256) {
        return _binding(repoId, author);
    }

    /// @inheritdoc IModelRepository
    function trainingUse(uint256 repoId, bytes32 parentWeightsHash, bytes32 dataHash) external view returns (uint256) {
        return _trainingUses[_useKey(repoId, parentWeightsHash, dataHash)];
    }

    /// @inheritdoc IModelRepository
    function commitIdOf(bytes32 contentId) external view returns (uint256) {
        return _commitByContent[contentId];
    }

    /// @inheritdoc IModelRepository
    function chainDataHash(bytes32[] calldata dataHashes) external pure returns (bytes32) {
        if (dataHashes.length == 0) revert FlavumInvalidChainLength(0, MAX_CHAIN_LENGTH);
        return _fieldHash(abi.encodePacked(dataHashes));
    }

    /// @inheritdoc IModelRepository
    function maxChainLength() external pure returns (uint256) {
        return MAX_CHAIN_LENGTH;
    }

    /// @inheritdoc IModelRepository
    function roleOf(uint256 repoId, address account) external view returns (Role) {
        _requireRepo(repoId);
        return _roleOf(repoId, account);
    }

    /// @inheritdoc IModelRepository
    function repositoryByName(string calldata name) external view returns (uint256 repoId) {
        repoId = _repoByName[keccak256(bytes(name))];
        if (repoId == 0) revert FlavumUnknownRepositoryName(name);
    }

    /// @inheritdoc IModelRepository
    function tokenKind(uint256 tokenId) external view returns (TokenKind) {
        if (_repos[tokenId].initialCommit != 0) return TokenKind.Repository;
        if (_commits[tokenId].repoId != 0) return TokenKind.Commit;
        return TokenKind.None;
    }

    /// @inheritdoc IModelRepository
    function tokenCount() external view returns (uint256) {
        return _tokenCount;
    }

    /**
     * @notice The metadata URI of a repository (given at creation) or of a commit (its metrics URI).
     * @param tokenId the token (reverts with `ERC721NonexistentToken` if unknown)
     * @return the URI, possibly empty
     */
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return _repos[tokenId].initialCommit != 0 ? _repos[tokenId].uri : _commitURIs[tokenId];
    }

    /**
     * @notice ERC-165: ERC-721, its metadata extension and {IModelRepository}.
     * @param interfaceId the interface
     * @return whether it is supported
     */
    function supportsInterface(bytes4 interfaceId) public view override(ERC721) returns (bool) {
        return interfaceId == type(IModelRepository).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Records commit id `++_tokenCount` by the caller; mints nothing (the caller mints it last).
    function _newCommit(
        uint256 repoId,
        CommitKind kind,
        CommitStatus status,
        bytes32 weightsHash,
        uint32 branchIndex,
        uint256 parent
    ) private returns (uint256 commitId, StoredCommit storage cm) {
        commitId = ++_tokenCount;
        cm = _commits[commitId];
        cm.author = msg.sender;
        cm.repoId = uint64(repoId);
        cm.parent = uint64(parent);
        cm.branchIndex = branchIndex;
        cm.kind = kind;
        cm.status = status;
        cm.weightsHash = weightsHash;
        _commitIds[repoId].push(uint64(commitId));
    }

    /**
     * @dev The checks of a chain that need no pairing, made before any is paid for: every link's hashes are
     * field elements, its samples and correct counts are sane, and its (parent weights, data) pair is
     * unused — then spent in the name of `commitId` (a revert later undoes it). Link i's parent weights
     * are link i - 1's new weights (`parentWeights` for link 0): nobody states them, so a chain can only
     * be pushed in the order it was trained. Keyed on the weights, not a commit id: a revert commit
     * restores old weights, and a proof from those weights must not count a second time from there.
     * Returns the commit's data hash (`chainDataHash`) and the sums of samples and correct.
     */
    function _spendChain(uint256 repoId, bytes32 parentWeights, TrainingLink[] calldata chain, uint256 commitId)
        private
        returns (bytes32 dataHash, uint256 samples, uint256 correct)
    {
        uint256 length = chain.length;
        bytes32[] memory dataHashes = new bytes32[](length);
        bytes32 from = parentWeights;
        for (uint256 i; i < length; ++i) {
            TrainingLink calldata link = chain[i];
            _spendLink(repoId, from, link, i, commitId);
            dataHashes[i] = link.dataHash;
            samples += link.samples;
            correct += link.correct;
            from = link.newWeightsHash;
        }
        if (samples > type(uint32).max) revert FlavumTooManySamples(samples);
        dataHash = _fieldHash(abi.encodePacked(dataHashes));
    }

    /// @dev `_spendChain`'s checks of link `i`, which trains from weights `from`.
    function _spendLink(uint256 repoId, bytes32 from, TrainingLink calldata link, uint256 i, uint256 commitId) private {
        _checkField(link.newWeightsHash);
        _checkField(link.dataHash);
        if (link.samples == 0 || link.correct > link.samples) revert FlavumInvalidSamples(i, link.samples, link.correct);
        bytes32 useKey = _useKey(repoId, from, link.dataHash);
        uint256 usedBy = _trainingUses[useKey];
        if (usedBy == commitId) revert FlavumChainRepeatsLink(i, from, link.dataHash);
        if (usedBy != 0) revert FlavumTrainingReused(repoId, from, link.dataHash, usedBy);
        _trainingUses[useKey] = commitId;
    }

    /**
     * @dev Reverts unless the training verifier accepts every link's proof of the training statement
     * `[link i - 1's newWeightsHash (the parent's weights for link 0), newWeightsHash, dataHash,
     * correct | samples << 32, binding]` (see {ITrainingVerifier}). `samples` is inside each proof (the
     * circuit fixes the batch shape), so a contributor cannot overstate it to weigh more in a FedAvg
     * merge; `binding` is derived here from the caller, never taken from it, so a proof seen in the
     * mempool or on chain cannot be pushed by anyone else.
     */
    function _verifyChain(uint256 repoId, uint256 parentCommit, bytes32 parentWeights, TrainingLink[] calldata chain)
        private
        view
    {
        address verifier = _repos[repoId].trainVerifier;
        uint256[] memory pub = new uint256[](5);
        pub[0] = uint256(parentWeights);
        pub[4] = _binding(repoId, msg.sender);
        uint256 length = chain.length;
        for (uint256 i; i < length; ++i) {
            TrainingLink calldata link = chain[i];
            pub[1] = uint256(link.newWeightsHash);
            pub[2] = uint256(link.dataHash);
            pub[3] = uint256(link.correct) | (uint256(link.samples) << 32);
            if (!_verify(verifier, ITrainingVerifier.verifyProof.selector, abi.encode(link.proof), pub)) {
                revert FlavumInvalidTrainingProof(repoId, parentCommit, i, verifier);
            }
            pub[0] = pub[1];
        }
    }

    /// @dev keccak256(data) reduced into the BN254 scalar field, so a chain's data hash is a field element as a link's is.
    function _fieldHash(bytes memory data) private pure returns (bytes32) {
        return bytes32(uint256(keccak256(data)) % FIELD_MODULUS);
    }

    /**
     * @dev A commit's content id (IModelRepository, "Commit ids"), from its stored fields only: the same
     * function records it at creation (`_identify`) and answers `commit`. A merge's merged commits are
     * training commits, whose ids need no further recursion.
     */
    function _contentId(uint256 commitId) private view returns (bytes32) {
        StoredCommit storage cm = _commits[commitId];
        CommitKind kind = cm.kind;
        if (kind == CommitKind.Train) {
            return keccak256(abi.encode(kind, cm.repoId, _commits[cm.parent].weightsHash, cm.dataHash));
        }
        if (kind == CommitKind.Merge) {
            uint256 k = cm.merged.length;
            bytes32[] memory merged = new bytes32[](k);
            for (uint256 i; i < k; ++i) {
                merged[i] = _contentId(cm.merged[i]);
            }
            return keccak256(abi.encode(kind, cm.repoId, cm.weightsHash, merged));
        }
        if (kind == CommitKind.Revert) {
            bytes32 branchKey = keccak256(bytes(_branchNames[cm.repoId][cm.branchIndex]));
            return keccak256(abi.encode(kind, cm.repoId, branchKey, cm.parent, cm.revertOf));
        }
        return keccak256(abi.encode(kind, cm.repoId, cm.weightsHash));
    }

    /// @dev Records the content id of new commit `commitId`; two commits never share one.
    function _identify(uint256 repoId, uint256 commitId) private {
        bytes32 contentId = _contentId(commitId);
        uint256 existing = _commitByContent[contentId];
        if (existing != 0) revert FlavumDuplicateCommit(contentId, existing);
        _commitByContent[contentId] = commitId;
        emit CommitIdentified(repoId, commitId, contentId);
    }

    /**
     * @dev The training statement's fifth public input (src/training/statement.ts computes the same):
     * which chain, which contract, which repository, which author a proof may be pushed by.
     */
    function _binding(uint256 repoId, address author) private view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), repoId, author))) % FIELD_MODULUS;
    }

    function _useKey(uint256 repoId, bytes32 parentWeights, bytes32 dataHash) private pure returns (bytes32) {
        return keccak256(abi.encode(repoId, parentWeights, dataHash));
    }

    /**
     * @dev Records a verified training commit on `branchName` (whose head is `parentCommit`) and moves the
     * head. Internal (not private) only so a test harness can plant commits the checks would refuse.
     */
    function _recordTrain(
        uint256 repoId,
        string calldata branchName,
        uint256 parentCommit,
        bytes32 newWeightsHash,
        bytes32 dataHash,
        uint32 samples,
        uint32 correct
    ) internal returns (uint256 commitId) {
        StoredBranch storage br = _branches[repoId][keccak256(bytes(branchName))];
        StoredCommit storage cm;
        (commitId, cm) =
            _newCommit(repoId, CommitKind.Train, CommitStatus.Proposed, newWeightsHash, br.index, parentCommit);
        cm.dataHash = dataHash;
        cm.samples = samples;
        cm.correct = correct;
        _moveHead(repoId, br, branchName, commitId);
    }

    /// @dev Marks a Proposed commit trained from `base` Merged and returns it.
    function _takeProposed(uint256 repoId, uint256 commitId, uint256 base) private returns (StoredCommit storage cm) {
        cm = _commitOf(repoId, commitId);
        if (cm.status != CommitStatus.Proposed) revert FlavumWrongCommitStatus(commitId, cm.status);
        if (cm.parent != base) revert FlavumStaleParent(repoId, base, cm.parent);
        cm.status = CommitStatus.Merged;
    }

    /**
     * @dev Marks `commits` (Proposed, trained from `base`) Merged and reverts unless the repository's merge
     * verifier for their count accepts the proof of `[newWeightsHash, h_1..h_k, n_1..n_k]`; returns sum n_i.
     * Equal weights or data among them mean one training counted twice (FedAvg would weigh the same
     * update by both sample counts). One-use training triples already keep equal data out of a merge
     * (all its commits share a parent); the check states the merge's own invariant and costs k SLOADs.
     */
    function _verifyMerge(
        uint256 repoId,
        uint256[] calldata commits,
        bytes32 newWeightsHash,
        uint256 base,
        Proof calldata proof
    ) private returns (uint64 total) {
        uint256 k = commits.length;
        address verifier = _repos[repoId].mergeVerifiers[k - 2];
        if (verifier == address(0)) revert FlavumMergeVerifierNotSet(repoId, k);
        _checkField(newWeightsHash);
        uint256[] memory pub = new uint256[](2 * k + 1);
        pub[0] = uint256(newWeightsHash);
        bytes32[MAX_MERGE] memory data;
        for (uint256 i; i < k; ++i) {
            StoredCommit storage cm = _takeProposed(repoId, commits[i], base);
            pub[1 + i] = uint256(cm.weightsHash);
            pub[1 + k + i] = cm.samples;
            total += cm.samples;
            data[i] = cm.dataHash;
            for (uint256 j; j < i; ++j) {
                if (pub[1 + j] == pub[1 + i]) {
                    revert FlavumMergeDuplicateWeights(commits[j], commits[i], cm.weightsHash);
                }
                if (data[j] == data[i]) revert FlavumMergeDuplicateData(commits[j], commits[i], data[i]);
            }
        }
        if (!_verify(verifier, _mergeSelector(2 * k + 1), abi.encode(proof), pub)) {
            revert FlavumInvalidMergeProof(repoId, k, verifier);
        }
    }

    /// @dev Records the merge commit of `commits` on `branchName` (parents: its head, then `commits`) and moves the head.
    function _recordMerge(
        uint256 repoId,
        string calldata branchName,
        uint256[] calldata commits,
        bytes32 newWeightsHash,
        uint64 total
    ) private returns (uint256 mergeCommit) {
        StoredBranch storage br = _branches[repoId][keccak256(bytes(branchName))];
        StoredCommit storage cm;
        (mergeCommit, cm) =
            _newCommit(repoId, CommitKind.Merge, CommitStatus.Accepted, newWeightsHash, br.index, br.head);
        for (uint256 i; i < commits.length; ++i) {
            cm.merged.push(uint64(commits[i]));
        }
        cm.samples = total;
        _moveHead(repoId, br, branchName, mergeCommit);
        emit Merged(repoId, mergeCommit, msg.sender, branchName, commits, newWeightsHash, total);
    }

    /**
     * @dev The selector of snarkjs's `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])`: the
     * public-input count is part of the signature, so each merge size has its own (IMergeVerifier2 … 8).
     */
    function _mergeSelector(uint256 n) private pure returns (bytes4) {
        return bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(n), "])")
            )
        );
    }

    /**
     * @dev Calls `verifier` with `selector(a, b, c, pub)`: `pub` goes as a fixed-size array, i.e. its words
     * inline. False if the call reverts or does not return true.
     */
    function _verify(address verifier, bytes4 selector, bytes memory proof, uint256[] memory pub)
        private
        view
        returns (bool)
    {
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodePacked(selector, proof, pub));
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    function _moveHead(uint256 repoId, StoredBranch storage br, string calldata branchName, uint256 newHead) private {
        uint256 previous = br.head;
        br.head = uint64(newHead);
        emit HeadMoved(repoId, newHead, branchName, previous);
    }

    function _emitCreated(uint256 repoId, bytes32 weightsHash) private {
        Repository storage r = _repos[repoId];
        emit RepositoryCreated(
            repoId,
            msg.sender,
            r.initialCommit,
            r.name,
            weightsHash,
            r.architectureHash,
            r.trainVerifier,
            r.mergeVerifiers,
            r.uri
        );
    }

    function _emitPushed(uint256 commitId, string calldata branchName, string calldata metricsURI) private {
        StoredCommit storage cm = _commits[commitId];
        emit CommitPushed(
            cm.repoId,
            commitId,
            cm.author,
            branchName,
            cm.parent,
            cm.weightsHash,
            cm.dataHash,
            uint32(cm.samples),
            cm.correct,
            cm.proofs,
            metricsURI
        );
    }

    function _requireRepo(uint256 repoId) private view {
        if (_repos[repoId].initialCommit == 0) revert FlavumUnknownRepository(repoId);
    }

    /// @dev The caller's role, reverting unless the repository exists and the role is at least `needed`.
    function _requireRole(uint256 repoId, Role needed) private view returns (Role role) {
        _requireRepo(repoId);
        role = _roleOf(repoId, msg.sender);
        if (role < needed) revert FlavumMissingRole(repoId, msg.sender, needed);
    }

    function _roleOf(uint256 repoId, address account) private view returns (Role) {
        return account == _ownerOf(repoId) ? Role.Owner : _roles[repoId][account];
    }

    function _branch(uint256 repoId, string calldata name) private view returns (StoredBranch storage br) {
        _requireRepo(repoId);
        br = _branches[repoId][keccak256(bytes(name))];
        if (br.head == 0) revert FlavumUnknownBranch(repoId, name);
    }

    /// @dev A branch the caller may push to: any for maintainers, a contributor's own non-main branches.
    function _writableBranch(uint256 repoId, string calldata name) private view returns (StoredBranch storage br) {
        Role role = _requireRole(repoId, Role.Contributor);
        bytes32 key = keccak256(bytes(name));
        br = _branches[repoId][key];
        if (br.head == 0) revert FlavumUnknownBranch(repoId, name);
        if (role == Role.Contributor && (key == MAIN_KEY || br.creator != msg.sender)) {
            revert FlavumBranchNotWritable(repoId, name, msg.sender);
        }
    }

    function _commitOf(uint256 repoId, uint256 commitId) private view returns (StoredCommit storage cm) {
        cm = _commits[commitId];
        if (cm.repoId != repoId || repoId == 0) revert FlavumUnknownCommit(repoId, commitId);
    }

    /// @dev Reverts if `cm` is Rejected; returns it.
    function _requireBase(StoredCommit storage cm, uint256 commitId) private view returns (StoredCommit storage) {
        if (cm.status == CommitStatus.Rejected) revert FlavumRejectedBase(commitId);
        return cm;
    }

    /// @dev Entries of a page at `offset` of at most `limit` (and MAX_PAGE) from a list of `total`.
    function _pageLength(uint256 total, uint256 offset, uint256 limit) private pure returns (uint256 n) {
        if (offset >= total) return 0;
        n = total - offset;
        if (n > limit) n = limit;
        if (n > MAX_PAGE) n = MAX_PAGE;
    }

    function _nameKey(string calldata name) private pure returns (bytes32) {
        uint256 len = bytes(name).length;
        if (len == 0 || len > MAX_NAME_BYTES) revert FlavumInvalidName(name);
        return keccak256(bytes(name));
    }

    function _checkVerifier(address verifier) private view {
        if (verifier.code.length == 0) revert FlavumVerifierNotContract(verifier);
    }

    function _checkField(bytes32 value) private pure {
        if (uint256(value) >= FIELD_MODULUS) revert FlavumNotFieldElement(uint256(value));
    }
}
