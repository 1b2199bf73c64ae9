// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Batch} from "../libraries/Groth16Batch.sol";

/**
 * @title Training inside the rollup: repository rounds settled as batches of verified proofs
 * @notice A repository of `ModelRepository` can also take training commits through this contract, a
 * round of N contributors in one transaction, instead of one `pushCommit` each. The sequencer (a
 * maintainer of the repository) cannot prove its contributors' training itself, as it would need
 * their private rows; it collects their proofs and settles them here, where all of them are checked
 * in one Groth16Batch pairing check (N + 3 pairings), and an optional merge proof by the
 * repository's own merge verifier moves the rollup's head.
 *
 * Opening. The repository's Owner opens its rollup once, fixing the verifying key of the training
 * circuit (the key of the repository's training verifier; an audit compares the two, see SECURITY.md)
 * and the merge verifiers, read from the repository. The head starts at the weights of `main`'s head.
 *
 * Statements. Each link of a commit proves the training statement
 * `[parentWeightsHash, newWeightsHash, dataHash, correct | samples << 32, binding]` of
 * {ITrainingVerifier}. The public inputs travel as calldata; the contract checks each instead of
 * deriving it: input 0 of a commit's first link is the head the round starts from, of each next link
 * the previous link's input 1; input 4 is `trainingBinding(repoId, author)`, which names this
 * contract, so a proof made for L1 never verifies here and a proof made here never verifies on L1;
 * 1 ≤ samples < 2^32 and correct ≤ samples; every (repository, parent weights, data hash) is used by
 * one link ever (`trainingUse`). Authors need a role in the repository, as pushers do on L1.
 *
 * Commits. A rollup commit is not a token: it is an event (`CommitSettled`) and calldata, named by the
 * same content id as an L1 training commit (keccak256(abi.encode(Train, repoId, parent weights,
 * dataHash)), with dataHash = keccak256(d_1 ‖ … ‖ d_P) mod p). Every round extends an accumulator,
 * root = keccak256(abi.encode(previous root, round, keccak256(round calldata))), so a replica that
 * replays the rounds' calldata can check it holds the same history.
 *
 * Merges. A round merges k of its own commits: none (proposals only, the head stays), one (a
 * fast-forward to its weights) or 2 … 8 with a proof checked by the repository's k-commit merge
 * verifier on `[newWeightsHash, h_1..h_k, n_1..n_k]`. Merged commits credit their authors' proven
 * samples (`samplesOf`). A commit not merged in its round stays on record, and its author trains
 * again from the new head.
 */
interface IRepositoryRollup {
    /**
     * @notice One commit of a round: who proved it and how many links (proofs, rows of 5 inputs) it spans.
     * @param author the account its proofs are bound to
     * @param links its proofs, taken in order from the round's proofs
     */
    struct RoundCommit {
        address author;
        uint16 links;
    }

    /**
     * @notice What a round merges.
     * @param commits indices into the round's commits, strictly increasing; empty for proposals only
     * @param weightsHash the merged weights (k ≥ 2), or the fast-forwarded commit's (k = 1)
     * @param proof the merge proof (k ≥ 2; ignored otherwise)
     */
    struct RoundMerge {
        uint256[] commits;
        bytes32 weightsHash;
        Groth16Batch.Proof proof;
    }

    /**
     * @notice A repository's rollup.
     * @param open whether it has been opened
     * @param baseCommit the L1 commit (`main`'s head) its head started from
     * @param head the weights commitment the next round trains from
     * @param round rounds settled so far
     * @param root the accumulator over the settled rounds' calldata (zero before the first)
     * @param keyHash Groth16Batch.hashKey of its training verifying key
     */
    struct RollupInfo {
        bool open;
        uint256 baseCommit;
        bytes32 head;
        uint64 round;
        bytes32 root;
        bytes32 keyHash;
    }

    /// @notice `owner` opened repository `repoId`'s rollup at L1 commit `baseCommit`, whose weights are its head.
    event RollupOpened(uint256 indexed repoId, address indexed owner, uint256 baseCommit, bytes32 head, bytes32 keyHash);
    /**
     * @notice Round `round` of repository `repoId` settled commit `index`, proven by `author`, with content
     * id `contentId`, trained from `parentWeights` to `weightsHash` on `dataHash` in `links` proofs.
     */
    event CommitSettled(
        uint256 indexed repoId,
        uint64 indexed round,
        address indexed author,
        uint256 index,
        bytes32 contentId,
        bytes32 parentWeights,
        bytes32 weightsHash,
        bytes32 dataHash,
        uint32 samples,
        uint32 correct,
        uint16 links
    );
    /// @notice `sequencer` settled round `round` of repository `repoId`: `commits` commits, `merged` of them merged; its head is now `head`.
    event RoundSettled(
        uint256 indexed repoId,
        uint64 indexed round,
        address indexed sequencer,
        uint256 commits,
        uint256[] merged,
        bytes32 head,
        uint64 mergedSamples,
        bytes32 root
    );

    /// @notice `account` needs at least role `needed` (IModelRepository.Role) in repository `repoId`.
    error FlavumRollupMissingRole(uint256 repoId, address account, uint8 needed);
    /// @notice Repository `repoId`'s rollup is already open.
    error FlavumRollupAlreadyOpen(uint256 repoId);
    /// @notice Repository `repoId`'s rollup has not been opened.
    error FlavumRollupNotOpen(uint256 repoId);
    /// @notice A training key has `actual` IC points; the training statement's 5 inputs need `expected`.
    error FlavumRollupWrongKeyShape(uint256 actual, uint256 expected);
    /// @notice A round has `count` commits; it takes 1 to `max`.
    error FlavumRollupRoundSize(uint256 count, uint256 max);
    /// @notice The round's commits span `links` links but it carries `proofs` proofs (at most `max`, each needs one).
    error FlavumRollupProofCount(uint256 links, uint256 proofs, uint256 max);
    /// @notice Commit `index` has no link.
    error FlavumRollupEmptyCommit(uint256 index);
    /// @notice The round carries `actual` public inputs; its proofs need `expected` (5 a proof).
    error FlavumRollupInputCount(uint256 actual, uint256 expected);
    /// @notice Link `link` of commit `index` trains from `actual`, but must train from `expected` (the head, or the previous link's weights).
    error FlavumRollupWrongParent(uint256 index, uint256 link, bytes32 expected, bytes32 actual);
    /// @notice Link `link` of commit `index` is bound to `actual`, not to its author's `expected` (a proof for someone else, L1 or another rollup).
    error FlavumRollupWrongBinding(uint256 index, uint256 link, uint256 expected, uint256 actual);
    /// @notice Link `link` of commit `index` states metrics `metrics`: samples must be 1 … 2^32 − 1 and correct at most samples.
    error FlavumRollupInvalidMetrics(uint256 index, uint256 link, uint256 metrics);
    /// @notice Commit `index` trains on `samples` samples in all, more than 2^32 − 1.
    error FlavumRollupTooManySamples(uint256 index, uint256 samples);
    /// @notice Training from `parentWeights` on `dataHash` in repository `repoId` was already settled, in round `round`.
    error FlavumRollupTrainingReused(uint256 repoId, bytes32 parentWeights, bytes32 dataHash, uint64 round);
    /// @notice A proof of round `round` of repository `repoId` does not verify (the batch check failed).
    error FlavumRollupInvalidProofs(uint256 repoId, uint64 round);
    /// @notice The merge lists `count` commits; a round merges 0 … 8 of its own.
    error FlavumRollupMergeCount(uint256 count);
    /// @notice Merge entry `position` names commit `index`: indices must increase and be below the round's `commits`.
    error FlavumRollupMergeIndex(uint256 position, uint256 index, uint256 commits);
    /// @notice A fast-forward to commit `index` states weights `stated`, not its `actual`.
    error FlavumRollupMergeWeights(uint256 index, bytes32 actual, bytes32 stated);
    /// @notice Merged commits `first` and `second` have the same weights: one training would count twice.
    error FlavumRollupMergeDuplicate(uint256 first, uint256 second);
    /// @notice Repository `repoId` has no merge verifier for `k` commits.
    error FlavumRollupNoMergeVerifier(uint256 repoId, uint256 k);
    /// @notice The merge proof of `k` commits does not verify with `verifier`.
    error FlavumRollupInvalidMergeProof(uint256 repoId, uint256 k, address verifier);
    /// @notice `value` is not a BN254 scalar field element.
    error FlavumRollupNotField(bytes32 value);

    /**
     * @notice Opens repository `repoId`'s rollup (its Owner, once): fixes its training verifying key
     * and merge verifiers and starts its head at `main`'s head.
     * @param repoId the repository
     * @param vk the repository training circuit's verifying key (G2 in the precompile's order, as
     * src/zk/batchVerifyingKey.ts writes it); 6 IC points
     */
    function open(uint256 repoId, Groth16Batch.VerifyingKey calldata vk) external;

    /**
     * @notice Settles one round of repository `repoId` (a Maintainer or Owner of it): checks every
     * commit's statements, verifies all their proofs in one batch, applies the merge, credits merged
     * authors and extends the accumulator. Reverts, changing nothing, if any check fails.
     * @param repoId the repository
     * @param commits the round's commits, in order; their links take the proofs in order
     * @param proofs every link's proof
     * @param inputs every link's 5 public inputs, flat, in the proofs' order
     * @param merge which of the round's commits to merge, and how
     * @return round the round's number (1, 2, …)
     */
    function settleRound(
        uint256 repoId,
        RoundCommit[] calldata commits,
        Groth16Batch.Proof[] calldata proofs,
        uint256[] calldata inputs,
        RoundMerge calldata merge
    ) external returns (uint64 round);

    /// @notice The ModelRepository this rollup serves.
    function repository() external view returns (address);

    /// @notice Repository `repoId`'s rollup state.
    function rollupOf(uint256 repoId) external view returns (RollupInfo memory);

    /// @notice Repository `repoId`'s training verifying key (reverts if not open).
    function verifyingKey(uint256 repoId) external view returns (Groth16Batch.VerifyingKey memory);

    /// @notice The samples of `author`'s commits merged in repository `repoId`'s rollup.
    function samplesOf(uint256 repoId, address author) external view returns (uint64);

    /**
     * @notice The fifth public input a proof for this rollup must carry:
     * keccak256(abi.encode(chainid, this contract, repoId, author)) mod p.
     */
    function trainingBinding(uint256 repoId, address author) external view returns (uint256);

    /// @notice The round that settled training from `parentWeights` on `dataHash`, or 0.
    function trainingUse(uint256 repoId, bytes32 parentWeights, bytes32 dataHash) external view returns (uint64);

    /// @notice The most commits a round takes.
    function maxRoundCommits() external pure returns (uint256);

    /// @notice The most proofs a round takes.
    function maxRoundProofs() external pure returns (uint256);
}
