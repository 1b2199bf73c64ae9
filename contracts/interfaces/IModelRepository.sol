// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Flavum model repositories
 * @notice "GitHub for ML models". A repository holds one model architecture; its history is a graph of
 * commits, each committing to a set of weights by hash. Branches are named refs to a head commit.
 *
 * Tokens. Repositories and commits are tokens of one ERC-721 collection ("Flavum Repository Commit",
 * FLVC) and share one id sequence 1, 2, 3, ...: every id is either a repository or a commit
 * (`tokenKind`), so the two ranges are disjoint. Creating a repository mints id n (the repository) and
 * n + 1 (its initial commit). The contract mints every token itself, to the commit's author (or the
 * merger / reverter / creator), never from a privileged key. Ids are stored in 64 bits.
 *
 * Roles (per repository, ordered): Contributor < Maintainer < Owner. The holder of the repository's
 * token is always an Owner and cannot be revoked (transferring the token transfers that seat); further
 * owners, maintainers and contributors are invited. Owners grant and revoke any role; maintainers grant
 * and revoke the Contributor role of accounts that hold no higher role.
 *
 * Branches. `main` is created with the repository and is protected: only maintainers and owners move
 * it (push, merge, revert). Anyone with a role creates a branch with `createBranch` from any commit of
 * the repository that is not Rejected, and becomes its creator. A contributor pushes only to branches
 * they created; maintainers and owners push to any branch. A push's parent must be the branch's current
 * head (otherwise `FlavumStaleParent`).
 *
 * Proofs. A training commit is a chain of 1 to `maxChainLength()` training proofs, all checked in the
 * push's transaction by the repository's training verifier, each on the training statement
 * `[parentWeightsHash, newWeightsHash, dataHash, correct | samples << 32, binding]`: the first link's
 * parentWeightsHash is the parent commit's weights, link i's is link i - 1's newWeightsHash (the
 * contract derives it, a caller never states it), and the commit's weights are the last link's. The
 * contract derives `binding` = keccak256(abi.encode(chainid, this contract, repoId, msg.sender)) mod p
 * itself (`trainingBinding`): a proof counts for the account that pushes it, in one repository, on one
 * chain and contract, and nowhere else. Each link's `dataHash` is a salted commitment to its rows (the
 * salt stays with the contributor); the commit records `dataHash = keccak256(d_1 || ... || d_P) mod p`
 * over its links' data hashes (`chainDataHash`), `samples` and `correct` as the sums over its links. A
 * (repository, parent weights, dataHash) pair is used by one link of one commit only (`trainingUse`).
 * A merge of k = 2..8 commits needs a proof checked by its k-commit merge verifier on
 * `[newWeightsHash, h_1..h_k, n_1..n_k]` (see `IRepositoryVerifiers.sol`): the repository's aggregation
 * rule, fixed with its verifiers at creation (sample-weighted FedAvg, coordinate-wise median or trimmed
 * mean; the architecture hash names it). Every committed hash must be
 * a BN254 scalar field element.
 *
 * Commit ids. Besides its token id, every commit has a content id, recorded when it is created
 * (`commitIdOf`, `CommitIdentified`) and computable from its content, for a training commit before it
 * is pushed: keccak256(abi.encode(kind, repoId, ...)) with, after the kind and the repository,
 * Initial: its weightsHash; Train: the parent's weightsHash and the commit's dataHash; Merge: its
 * weightsHash and the content ids of the merged commits (in `merge`'s order); Revert: keccak256 of the
 * branch name, the previous head's token id and the restored commit's token id.
 *
 * Merges. A merge takes 1..8 Proposed training commits that were all trained from the target branch's
 * current head, with pairwise distinct weights and data hashes. k >= 2 creates a merge commit (the
 * aggregation, proven); k = 1 is a fast-forward: the target's head becomes that commit (its weights were already
 * proven from that head), no new commit, no proof.
 *
 * Lists. Branch and commit lists only grow, and anyone with a role can grow them: they are read in
 * pages (`branchesOf`, `commitsOf`, at most 256 entries a call), so no list length makes a view fail.
 *
 * Revert. `revertTo` appends a forward commit whose weights are those of an earlier commit; history is
 * kept. Full ancestry is not checked on chain: the target may be any commit of the same repository
 * that is not Rejected (which includes commits of other branches).
 */
interface IModelRepository {
    /// @notice A collaborator's role, ordered: a higher role can do everything a lower one can.
    enum Role {
        None,
        Contributor,
        Maintainer,
        Owner
    }

    /// @notice How a commit came about.
    enum CommitKind {
        None,
        Initial,
        Train,
        Merge,
        Revert
    }

    /**
     * @notice A commit's review state. Training commits start Proposed and end Merged or Rejected;
     * initial, merge and revert commits, made by owners and maintainers, are Accepted from the start.
     */
    enum CommitStatus {
        None,
        Proposed,
        Merged,
        Rejected,
        Accepted
    }

    /// @notice What a token id is.
    enum TokenKind {
        None,
        Repository,
        Commit
    }

    /**
     * @notice A repository. Its owner (the token holder) is `ownerOf(repoId)`.
     * @param name unique name
     * @param architectureHash hash of the model architecture all commits share
     * @param trainVerifier the `ITrainingVerifier` of training commits
     * @param mergeVerifiers the merge verifiers for k = 2 … 8 commits, `mergeVerifiers[k - 2]` (zero: merges of k unsupported)
     * @param initialCommit the commit `main` started from
     * @param uri metadata URI (the repository token's `tokenURI`)
     */
    struct Repository {
        string name;
        bytes32 architectureHash;
        address trainVerifier;
        address[7] mergeVerifiers;
        uint256 initialCommit;
        string uri;
    }

    /**
     * @notice A commit, as `commit` returns it.
     * @param id the commit's token id
     * @param repoId its repository
     * @param author who made it and was minted its token
     * @param kind how it came about
     * @param status review state
     * @param branch the branch it was pushed, merged or reverted on
     * @param parents the parent (Train, Revert), the target head then the merged commits (Merge), none (Initial)
     * @param weightsHash commitment to its weights
     * @param dataHash commitment to the training data (Train: `chainDataHash` of its links' data hashes), 0 otherwise
     * @param samples training samples (Train: the sum of its proofs' n·K, proven), sum over the merged commits
     * (Merge), 0 otherwise
     * @param correct training rows classified correctly before their SGD step, summed over the proofs (Train,
     * proven), 0 otherwise
     * @param revertOf the commit whose weights a Revert commit restores, 0 otherwise
     * @param proofs the training proofs of the commit's chain (Train), 0 otherwise
     * @param contentId the commit's content id (see "Commit ids")
     */
    struct Commit {
        uint256 id;
        uint256 repoId;
        address author;
        CommitKind kind;
        CommitStatus status;
        string branch;
        uint256[] parents;
        bytes32 weightsHash;
        bytes32 dataHash;
        uint64 samples;
        uint32 correct;
        uint256 revertOf;
        uint16 proofs;
        bytes32 contentId;
    }

    /**
     * @notice A Groth16 proof, as snarkjs's `exportSolidityCallData` gives its points.
     * @param a the A point
     * @param b the B point (coordinates in the verifier's order)
     * @param c the C point
     */
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /**
     * @notice One link of a training commit's chain: a training proof and the statement it proves, but
     * for the two public inputs the contract derives (the parent weights: the previous link's
     * `newWeightsHash`, the parent commit's for the first link; the binding: from `msg.sender`).
     * @param newWeightsHash commitment to the weights after this proof's K SGD steps (a field element)
     * @param dataHash salted commitment to this proof's n·K rows (a field element)
     * @param samples the rows this proof trained on (n·K, at least 1)
     * @param correct of those, the rows classified correctly before their step (at most `samples`)
     * @param proof the training proof
     */
    struct TrainingLink {
        bytes32 newWeightsHash;
        bytes32 dataHash;
        uint32 samples;
        uint32 correct;
        Proof proof;
    }

    /**
     * @notice A branch: a named ref.
     * @param head its head commit
     * @param creator who created it (the repository's creator for `main`)
     */
    struct Branch {
        uint256 head;
        address creator;
    }

    /// @notice Repository `repoId` was created by `owner` with initial commit `initialCommit` on `main`.
    event RepositoryCreated(
        uint256 indexed repoId,
        address indexed owner,
        uint256 indexed initialCommit,
        string name,
        bytes32 weightsHash,
        bytes32 architectureHash,
        address trainVerifier,
        address[7] mergeVerifiers,
        string uri
    );
    /// @notice `by` gave `account` role `role` in repository `repoId`.
    event CollaboratorInvited(uint256 indexed repoId, address indexed account, Role role, address indexed by);
    /// @notice `by` removed `account`'s role `previous` in repository `repoId`.
    event CollaboratorRevoked(uint256 indexed repoId, address indexed account, Role previous, address indexed by);
    /// @notice `creator` created branch `name` of repository `repoId` at commit `fromCommit`.
    event BranchCreated(uint256 indexed repoId, uint256 indexed fromCommit, address indexed creator, string name);
    /// @notice Branch `branch` of repository `repoId` moved from `previous` to `head`.
    event HeadMoved(uint256 indexed repoId, uint256 indexed head, string branch, uint256 previous);
    /// @notice Commit `commitId` of repository `repoId` was created with content id `contentId` (every
    /// commit: initial, training, merge, revert); `commitIdOf(contentId)` now returns `commitId`.
    event CommitIdentified(uint256 indexed repoId, uint256 indexed commitId, bytes32 indexed contentId);
    /// @notice `author` pushed proven training commit `commitId`, a chain of `proofs` training proofs, onto
    /// `branch` of repository `repoId`.
    event CommitPushed(
        uint256 indexed repoId,
        uint256 indexed commitId,
        address indexed author,
        string branch,
        uint256 parent,
        bytes32 weightsHash,
        bytes32 dataHash,
        uint32 samples,
        uint32 correct,
        uint16 proofs,
        string metricsURI
    );
    /// @notice `merger` merged `commits` into `branch` of repository `repoId` as `mergeCommit` (a
    /// fast-forward of one commit names that commit as `mergeCommit`).
    event Merged(
        uint256 indexed repoId,
        uint256 indexed mergeCommit,
        address indexed merger,
        string branch,
        uint256[] commits,
        bytes32 weightsHash,
        uint64 samples
    );
    /// @notice `by` rejected commit `commitId` of repository `repoId`.
    event CommitRejected(uint256 indexed repoId, uint256 indexed commitId, address indexed by, string reason);
    /// @notice `by` reverted `branch` of repository `repoId` to the weights of `toCommit` with new commit `commitId`.
    event Reverted(uint256 indexed repoId, uint256 indexed commitId, address indexed by, string branch, uint256 toCommit);

    /// @notice `account` needs at least role `needed` in repository `repoId`.
    error FlavumMissingRole(uint256 repoId, address account, Role needed);
    /// @notice `account` may not move branch `branch` of repository `repoId`: contributors push only to
    /// branches they created, never to `main`. Create a branch with `createBranch`.
    error FlavumBranchNotWritable(uint256 repoId, string branch, address account);
    /// @notice No repository `repoId` exists.
    error FlavumUnknownRepository(uint256 repoId);
    /// @notice No repository is named `name`.
    error FlavumUnknownRepositoryName(string name);
    /// @notice Repository `repoId` has no commit `commitId` (`repoId` 0: no such commit at all).
    error FlavumUnknownCommit(uint256 repoId, uint256 commitId);
    /// @notice Repository `repoId` has no branch `branch`.
    error FlavumUnknownBranch(uint256 repoId, string branch);
    /// @notice Repository `repoId` already has a branch `branch`.
    error FlavumBranchExists(uint256 repoId, string branch);
    /// @notice Names must be 1 to 64 bytes long, got `name`.
    error FlavumInvalidName(string name);
    /// @notice Repository `repoId` is already named `name`.
    error FlavumDuplicateName(string name, uint256 repoId);
    /// @notice The branch's head is `head` but the commit was made from `parent`: pull the head and redo it.
    error FlavumStaleParent(uint256 repoId, uint256 head, uint256 parent);
    /// @notice Commit `commitId` is Rejected and cannot be built on, branched from or reverted to.
    error FlavumRejectedBase(uint256 commitId);
    /// @notice Commit `commitId` is `status`; this needs a Proposed commit.
    error FlavumWrongCommitStatus(uint256 commitId, CommitStatus status);
    /// @notice Verifier `verifier` rejected proof `link` (0-based) of a commit on `parent` in repository
    /// `repoId` for public inputs [parentWeightsHash, newWeightsHash, dataHash, correct | samples << 32,
    /// binding], parentWeightsHash being link `link - 1`'s newWeightsHash (`parent`'s weights for link 0):
    /// other weights, data or metrics than proven, a broken or reordered chain (the proof was made from
    /// other weights), or a proof made for another author, repository, chain or contract (`binding`).
    error FlavumInvalidTrainingProof(uint256 repoId, uint256 parent, uint256 link, address verifier);
    /// @notice Commit `commitId` already trained on data `dataHash` from weights `parentWeightsHash` in
    /// repository `repoId`: a (repository, parent weights, data) pair counts once, in one link of one commit.
    error FlavumTrainingReused(uint256 repoId, bytes32 parentWeightsHash, bytes32 dataHash, uint256 commitId);
    /// @notice Link `link` (0-based) of the chain trains on data `dataHash` from weights `parentWeightsHash`,
    /// as an earlier link of the same chain already does: the pair counts once.
    error FlavumChainRepeatsLink(uint256 link, bytes32 parentWeightsHash, bytes32 dataHash);
    /// @notice A training commit is a chain of 1 to `max` proofs, got `length`.
    error FlavumInvalidChainLength(uint256 length, uint256 max);
    /// @notice A training commit's proofs may sum to at most 2^32 - 1 samples (a merge proof's counts are 32
    /// bits), got `samples`.
    error FlavumTooManySamples(uint256 samples);
    /// @notice Commit `commitId` already has content id `contentId`.
    error FlavumDuplicateCommit(bytes32 contentId, uint256 commitId);
    /// @notice Commits `first` and `second` have the same weights `weightsHash`: a merge would count one
    /// update twice.
    error FlavumMergeDuplicateWeights(uint256 first, uint256 second, bytes32 weightsHash);
    /// @notice Commits `first` and `second` committed the same data `dataHash`: a merge would count the
    /// same samples twice.
    error FlavumMergeDuplicateData(uint256 first, uint256 second, bytes32 dataHash);
    /// @notice Verifier `verifier` rejected the proof of a `commitCount`-commit merge in repository `repoId`
    /// for public inputs [newWeightsHash, h_1..h_k, n_1..n_k].
    error FlavumInvalidMergeProof(uint256 repoId, uint256 commitCount, address verifier);
    /// @notice A merge takes 1 to 4 commits, got `count`.
    error FlavumInvalidMergeCount(uint256 count);
    /// @notice Repository `repoId` has no verifier for merges of `commitCount` commits.
    error FlavumMergeVerifierNotSet(uint256 repoId, uint256 commitCount);
    /// @notice A fast-forward merge of `commitId` must keep its weights `expected`, got `given`.
    error FlavumWeightsMismatch(uint256 commitId, bytes32 expected, bytes32 given);
    /// @notice `verifier` has no code.
    error FlavumVerifierNotContract(address verifier);
    /// @notice `value` is not a canonical BN254 field element.
    error FlavumNotFieldElement(uint256 value);
    /// @notice Each proof of a training commit needs 1 or more samples and at most `samples` correct; link
    /// `link` (0-based) has `samples`, `correct`.
    error FlavumInvalidSamples(uint256 link, uint32 samples, uint32 correct);
    /// @notice `role` cannot be granted (use `revoke` to remove a role).
    error FlavumInvalidRole(Role role);
    /// @notice `holder` holds repository `repoId`'s token: its role is Owner until the token moves, and
    /// cannot be granted or revoked.
    error FlavumTokenHolderRole(uint256 repoId, address holder);
    /// @notice `account` holds no role in repository `repoId`.
    error FlavumNoRole(uint256 repoId, address account);
    /// @notice Branch `branch` of repository `repoId` is already at commit `commitId`.
    error FlavumNothingToRevert(uint256 repoId, string branch, uint256 commitId);
    /// @notice A zero address was given for `what`.
    error FlavumZeroAddress(string what);

    /**
     * @notice Creates a repository: mints its token (id n) to the caller, who becomes its owner, and the
     * initial commit (id n + 1, weights `weightsHash`, no parent, no data) on branch `main`, also to the caller.
     * @param name a unique name, 1 to 64 bytes
     * @param weightsHash commitment to the initial weights (a field element)
     * @param architectureHash hash of the architecture
     * @param trainVerifier the `ITrainingVerifier` for this architecture (must have code)
     * @param mergeVerifiers the merge verifiers for k = 2 … 8, `mergeVerifiers[k - 2]` (each must have code, or be zero if
     * merges of k commits are not supported)
     * @param uri the repository token's metadata URI
     * @return repoId the repository's id
     */
    function createRepository(
        string calldata name,
        bytes32 weightsHash,
        bytes32 architectureHash,
        address trainVerifier,
        address[7] calldata mergeVerifiers,
        string calldata uri
    ) external returns (uint256 repoId);

    /**
     * @notice Gives `account` role `role` in `repoId` (or changes its role). Owners grant any role;
     * maintainers grant Contributor to accounts that hold no higher role.
     * @param repoId the repository
     * @param account the collaborator
     * @param role Contributor, Maintainer or Owner
     */
    function invite(uint256 repoId, address account, Role role) external;

    /**
     * @notice Removes `account`'s role in `repoId`. Owners revoke any role but the token holder's;
     * maintainers revoke contributors.
     * @param repoId the repository
     * @param account the collaborator
     */
    function revoke(uint256 repoId, address account) external;

    /**
     * @notice Creates branch `name` at `fromCommit`; the caller becomes its creator. Contributor or above.
     * @param repoId the repository
     * @param name a new branch name, 1 to 64 bytes
     * @param fromCommit a commit of the repository that is not Rejected
     */
    function createBranch(uint256 repoId, string calldata name, uint256 fromCommit) external;

    /**
     * @notice Pushes a proven training commit, a chain of training proofs verified here one by one, onto
     * `branch` and mints its token to the caller. Contributor or above; contributors only to branches they
     * created (never `main`). For every link i the training verifier must accept its proof for
     * `[w_{i-1}, chain[i].newWeightsHash, chain[i].dataHash, chain[i].correct | chain[i].samples << 32,
     * binding]`, w_{-1} the parent's weightsHash and w_{i-1} = chain[i - 1].newWeightsHash, `binding =
     * trainingBinding(repoId, msg.sender)`: every proof must have been made for the caller, this
     * repository, chain and contract, from the weights the previous proof produced. Reverts with
     * `FlavumTrainingReused` if a link's (parent weights, dataHash) pair was used by a commit before
     * (`FlavumChainRepeatsLink` if by an earlier link of this chain), `FlavumInvalidChainLength` for an
     * empty chain or one longer than `maxChainLength()`. The commit records the last link's weights,
     * `chainDataHash` of the links' data hashes, and the sums of their samples and correct counts.
     * @param repoId the repository
     * @param branch the branch; its head must be `parentCommit`
     * @param parentCommit the commit the chain trained from (not Rejected)
     * @param chain the links, in training order: 1 to `maxChainLength()` proofs
     * @param metricsURI metrics document (the commit token's `tokenURI`)
     * @return commitId the new commit's token id (`commit(commitId).contentId` is its content id)
     */
    function pushCommit(
        uint256 repoId,
        string calldata branch,
        uint256 parentCommit,
        TrainingLink[] calldata chain,
        string calldata metricsURI
    ) external returns (uint256 commitId);

    /**
     * @notice Merges Proposed training commits, all trained from `targetBranch`'s head and with pairwise
     * distinct weights and data hashes (`FlavumMergeDuplicateWeights`, `FlavumMergeDuplicateData`), into
     * it and marks them Merged. Maintainer or above. For 2..4 commits, creates a merge commit (parents: the target head,
     * then `commits`; samples: their sum) minted to the caller, accepted only if the repository's merge
     * verifier for that count accepts the proof for `[newWeightsHash, h_1..h_k, n_1..n_k]`. One commit is a
     * fast-forward: the head becomes that commit, `newWeightsHash` must equal its weights, the proof is ignored.
     * @param repoId the repository
     * @param targetBranch the branch to merge into
     * @param commits 1 to 4 distinct Proposed commits whose parent is the target's head
     * @param newWeightsHash commitment to the averaged weights (a field element)
     * @param proof the merge proof (ignored for one commit)
     * @return mergeCommit the new head (the merge commit, or the fast-forwarded commit)
     */
    function merge(
        uint256 repoId,
        string calldata targetBranch,
        uint256[] calldata commits,
        bytes32 newWeightsHash,
        Proof calldata proof
    ) external returns (uint256 mergeCommit);

    /**
     * @notice Rejects a Proposed commit (it stays in history; branch heads do not move). Maintainer or above.
     * @param repoId the repository
     * @param commitId the commit
     * @param reason why (emitted, not stored)
     */
    function reject(uint256 repoId, uint256 commitId, string calldata reason) external;

    /**
     * @notice Appends to `branch` a Revert commit (parent: the current head) with the weights of `toCommit`,
     * minted to the caller. Maintainer or above. `toCommit` may be any commit of the repository that is not
     * Rejected and not the head itself; its ancestry is not checked.
     * @param repoId the repository
     * @param branch the branch
     * @param toCommit the commit whose weights to restore
     * @return commitId the new commit's id
     */
    function revertTo(uint256 repoId, string calldata branch, uint256 toCommit) external returns (uint256 commitId);

    /**
     * @notice Repository `repoId` (reverts with `FlavumUnknownRepository` if unknown).
     * @param repoId the repository
     * @return the repository
     */
    function repository(uint256 repoId) external view returns (Repository memory);

    /**
     * @notice Commit `commitId` (reverts with `FlavumUnknownCommit(0, commitId)` if unknown).
     * @param commitId the commit
     * @return the commit
     */
    function commit(uint256 commitId) external view returns (Commit memory);

    /**
     * @notice The head of `branch` of `repoId`.
     * @param repoId the repository
     * @param branch the branch
     * @return the head commit's id
     */
    function head(uint256 repoId, string calldata branch) external view returns (uint256);

    /**
     * @notice Branch `name` of `repoId`: head and creator.
     * @param repoId the repository
     * @param name the branch
     * @return the branch
     */
    function branchInfo(uint256 repoId, string calldata name) external view returns (Branch memory);

    /**
     * @notice A page of the branches of `repoId`, in creation order (`main` first), and their heads.
     * @param repoId the repository
     * @param offset index of the first branch returned
     * @param limit at most this many (and at most 256) are returned
     * @return names the branch names (empty if `offset >= total`)
     * @return heads the head of each
     * @return total the number of branches
     */
    function branchesOf(uint256 repoId, uint256 offset, uint256 limit)
        external
        view
        returns (string[] memory names, uint256[] memory heads, uint256 total);

    /**
     * @notice A page of the commits of `repoId`, in creation order (the initial commit first).
     * @param repoId the repository
     * @param offset index of the first commit returned
     * @param limit at most this many (and at most 256) are returned
     * @return ids the commit ids (empty if `offset >= total`)
     * @return total the number of commits
     */
    function commitsOf(uint256 repoId, uint256 offset, uint256 limit) external view returns (uint256[] memory ids, uint256 total);

    /**
     * @notice The fifth public input of a training proof `author` may push to `repoId` here:
     * keccak256(abi.encode(block.chainid, address(this), repoId, author)) mod the BN254 scalar field.
     * @param repoId the repository
     * @param author the account that will call `pushCommit`
     * @return the binding
     */
    function trainingBinding(uint256 repoId, address author) external view returns (uint256);

    /**
     * @notice The commit of `repoId` one of whose proofs trained on `dataHash` from weights
     * `parentWeightsHash`, or 0.
     * @param repoId the repository
     * @param parentWeightsHash the weights the proof started from
     * @param dataHash the proof's data commitment
     * @return the commit id, 0 if the pair is unused
     */
    function trainingUse(uint256 repoId, bytes32 parentWeightsHash, bytes32 dataHash) external view returns (uint256);

    /**
     * @notice The commit whose content id is `contentId` (see "Commit ids"), or 0 if none.
     * @param contentId the content id
     * @return the commit's token id, 0 if no commit has that content id
     */
    function commitIdOf(bytes32 contentId) external view returns (uint256);

    /**
     * @notice A training commit's dataHash from its links' data hashes `d_1..d_P`, in chain order:
     * keccak256(abi.encodePacked(d_1, ..., d_P)) mod the BN254 scalar field.
     * @param dataHashes the links' data hashes (1 or more)
     * @return the commit's data hash
     */
    function chainDataHash(bytes32[] calldata dataHashes) external pure returns (bytes32);

    /// @notice The most training proofs one commit may chain.
    function maxChainLength() external pure returns (uint256);

    /**
     * @notice `account`'s role in `repoId` (Owner for the token holder).
     * @param repoId the repository
     * @param account the account
     * @return the role
     */
    function roleOf(uint256 repoId, address account) external view returns (Role);

    /**
     * @notice The repository named `name` (reverts with `FlavumUnknownRepositoryName` if none).
     * @param name the name
     * @return the repository's id
     */
    function repositoryByName(string calldata name) external view returns (uint256);

    /**
     * @notice Whether token `tokenId` is a repository, a commit, or does not exist.
     * @param tokenId the token
     * @return the kind
     */
    function tokenKind(uint256 tokenId) external view returns (TokenKind);

    /// @notice The number of tokens minted; the latest token's id.
    function tokenCount() external view returns (uint256);
}
