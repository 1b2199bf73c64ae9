// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {CodeStore} from "../libraries/CodeStore.sol";
import {Groth16Batch} from "../libraries/Groth16Batch.sol";
import {IModelRepository} from "../interfaces/IModelRepository.sol";
import {IRepositoryRollup} from "../interfaces/IRepositoryRollup.sol";

/**
 * @title RepositoryRollup
 * @notice Training rounds of ModelRepository repositories, settled as batches of verified proofs.
 * See {IRepositoryRollup}.
 */
contract RepositoryRollup is IRepositoryRollup {
    uint256 private constant FIELD_MODULUS = Groth16Batch.SCALAR_FIELD;
    /// @dev Public inputs of the training statement, and so IC points of its key (one more).
    uint256 private constant TRAINING_INPUTS = 5;
    /// @dev Bounds a round's gas: 64 proofs are ~4.5M gas of pairings and scalar multiplications.
    uint256 private constant MAX_ROUND_COMMITS = 32;
    uint256 private constant MAX_ROUND_PROOFS = 64;
    /// @dev ModelRepository's MAX_MERGE: its merge verifiers cover k = 2 … 8.
    uint256 private constant MAX_MERGE = 8;

    /// @dev A repository's rollup. `key` is non-zero once open.
    struct Rollup {
        address key;
        uint64 round;
        uint64 baseCommit;
        bytes32 head;
        bytes32 root;
        bytes32 keyHash;
        address[7] mergeVerifiers;
    }

    /// @dev What the checks of one commit found, for the merge and the events.
    struct Checked {
        bytes32 weights;
        uint64 samples;
    }

    /// @dev The round being checked.
    struct Context {
        uint256 repoId;
        uint64 round;
        bytes32 head;
    }

    /// @dev A commit's walk along its links: the weights the next link trains from, its author's binding, the sums so far.
    struct Link {
        bytes32 from;
        uint256 binding;
        uint256 samples;
        uint256 correct;
    }

    IModelRepository private immutable _repository;

    mapping(uint256 repoId => Rollup) private _rollups;
    mapping(bytes32 useKey => uint64 round) private _uses;
    mapping(uint256 repoId => mapping(address author => uint64)) private _samples;

    /// @param repository_ the ModelRepository whose repositories this contract settles rounds of
    constructor(address repository_) {
        _repository = IModelRepository(repository_);
    }

    /// @inheritdoc IRepositoryRollup
    function open(uint256 repoId, Groth16Batch.VerifyingKey calldata vk) external {
        _requireRole(repoId, msg.sender, IModelRepository.Role.Owner);
        Rollup storage r = _rollups[repoId];
        if (r.key != address(0)) revert FlavumRollupAlreadyOpen(repoId);
        if (vk.ic.length != TRAINING_INPUTS + 1) revert FlavumRollupWrongKeyShape(vk.ic.length, TRAINING_INPUTS + 1);
        IModelRepository.Repository memory info = _repository.repository(repoId);
        uint256 base = _repository.head(repoId, "main");
        bytes32 head = _repository.commit(base).weightsHash;
        Groth16Batch.VerifyingKey memory key = vk;
        r.key = CodeStore.write(abi.encode(key));
        r.baseCommit = uint64(base);
        r.head = head;
        r.keyHash = Groth16Batch.hashKey(key);
        r.mergeVerifiers = info.mergeVerifiers;
        emit RollupOpened(repoId, msg.sender, base, head, r.keyHash);
    }

    /// @inheritdoc IRepositoryRollup
    function settleRound(
        uint256 repoId,
        RoundCommit[] calldata commits,
        Groth16Batch.Proof[] calldata proofs,
        uint256[] calldata inputs,
        RoundMerge calldata merge
    ) external returns (uint64 round) {
        _requireRole(repoId, msg.sender, IModelRepository.Role.Maintainer);
        Rollup storage r = _rollups[repoId];
        if (r.key == address(0)) revert FlavumRollupNotOpen(repoId);
        uint256 n = commits.length;
        if (n == 0 || n > MAX_ROUND_COMMITS) revert FlavumRollupRoundSize(n, MAX_ROUND_COMMITS);
        _checkShape(commits, proofs.length, inputs.length);
        round = r.round + 1;
        bytes32 head = r.head;
        // Every statement is checked before the one pairing check that covers them all.
        Checked[] memory checked = _checkCommits(Context(repoId, round, head), commits, inputs);
        _verifyProofs(r.key, repoId, round, proofs, inputs);
        _settle(Context(repoId, round, head), r, commits, checked, merge);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRepositoryRollup
    function repository() external view returns (address) {
        return address(_repository);
    }

    /// @inheritdoc IRepositoryRollup
    function rollupOf(uint256 repoId) external view returns (RollupInfo memory) {
        Rollup storage r = _rollups[repoId];
        return RollupInfo(r.key != address(0), r.baseCommit, r.head, r.round, r.root, r.keyHash);
    }

    /// @inheritdoc IRepositoryRollup
    function verifyingKey(uint256 repoId) external view returns (Groth16Batch.VerifyingKey memory) {
        address key = _rollups[repoId].key;
        if (key == address(0)) revert FlavumRollupNotOpen(repoId);
        return abi.decode(CodeStore.read(key), (Groth16Batch.VerifyingKey));
    }

    /// @inheritdoc IRepositoryRollup
    function samplesOf(uint256 repoId, address author) external view returns (uint64) {
        return _samples[repoId][author];
    }

    /// @inheritdoc IRepositoryRollup
    function trainingBinding(uint256 repoId, address author) external view returns (uint256) {
        return _binding(repoId, author);
    }

    /// @inheritdoc IRepositoryRollup
    function trainingUse(uint256 repoId, bytes32 parentWeights, bytes32 dataHash) external view returns (uint64) {
        return _uses[_useKey(repoId, parentWeights, dataHash)];
    }

    /// @inheritdoc IRepositoryRollup
    function maxRoundCommits() external pure returns (uint256) {
        return MAX_ROUND_COMMITS;
    }

    /// @inheritdoc IRepositoryRollup
    function maxRoundProofs() external pure returns (uint256) {
        return MAX_ROUND_PROOFS;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The round's commits must span exactly its proofs, and the proofs carry 5 inputs each.
    function _checkShape(RoundCommit[] calldata commits, uint256 proofCount, uint256 inputCount) private pure {
        uint256 links;
        for (uint256 i; i < commits.length; ++i) {
            if (commits[i].links == 0) revert FlavumRollupEmptyCommit(i);
            links += commits[i].links;
        }
        if (links != proofCount || proofCount > MAX_ROUND_PROOFS) {
            revert FlavumRollupProofCount(links, proofCount, MAX_ROUND_PROOFS);
        }
        if (inputCount != proofCount * TRAINING_INPUTS) {
            revert FlavumRollupInputCount(inputCount, proofCount * TRAINING_INPUTS);
        }
    }

    /// @dev Checks every commit of the round (see `_checkCommit`), in order.
    function _checkCommits(Context memory ctx, RoundCommit[] calldata commits, uint256[] calldata inputs)
        private
        returns (Checked[] memory checked)
    {
        checked = new Checked[](commits.length);
        uint256 first;
        for (uint256 i; i < commits.length; ++i) {
            checked[i] = _checkCommit(ctx, i, commits[i], inputs, first);
            first += commits[i].links;
        }
    }

    /**
     * @dev Checks commit `i`'s links, which start at `first` in the round's proofs, spends their
     * training uses and emits its record. The proofs themselves are verified afterwards, all at once.
     */
    function _checkCommit(Context memory ctx, uint256 i, RoundCommit calldata c, uint256[] calldata inputs, uint256 first)
        private
        returns (Checked memory out)
    {
        _requireRole(ctx.repoId, c.author, IModelRepository.Role.Contributor);
        Link memory l = Link(ctx.head, _binding(ctx.repoId, c.author), 0, 0);
        bytes32[] memory dataHashes = new bytes32[](c.links);
        for (uint256 j; j < c.links; ++j) {
            dataHashes[j] = _checkLink(ctx, l, i, j, inputs, (first + j) * TRAINING_INPUTS);
        }
        if (l.samples > type(uint32).max) revert FlavumRollupTooManySamples(i, l.samples);
        _emitCommit(ctx, i, c, l, bytes32(uint256(keccak256(abi.encodePacked(dataHashes))) % FIELD_MODULUS));
        out = Checked(l.from, uint64(l.samples));
    }

    /// @dev The record of commit `i` (its content id is an L1 training commit's: parent weights and chain data hash).
    function _emitCommit(Context memory ctx, uint256 i, RoundCommit calldata c, Link memory l, bytes32 dataHash) private {
        bytes32 contentId = keccak256(abi.encode(IModelRepository.CommitKind.Train, ctx.repoId, ctx.head, dataHash));
        emit CommitSettled(
            ctx.repoId, ctx.round, c.author, i, contentId, ctx.head, l.from, dataHash, uint32(l.samples), uint32(l.correct), c.links
        );
    }

    /**
     * @dev Checks link `j` of commit `i`, whose inputs start at `at`, against the walk `l` so far
     * (parent, binding, sums), spends its training use, advances `l` and returns its data hash.
     */
    function _checkLink(Context memory ctx, Link memory l, uint256 i, uint256 j, uint256[] calldata inputs, uint256 at)
        private
        returns (bytes32 data)
    {
        if (bytes32(inputs[at]) != l.from) revert FlavumRollupWrongParent(i, j, l.from, bytes32(inputs[at]));
        if (inputs[at + 4] != l.binding) revert FlavumRollupWrongBinding(i, j, l.binding, inputs[at + 4]);
        uint256 metrics = inputs[at + 3];
        uint256 s = metrics >> 32;
        uint256 k = metrics & 0xffffffff;
        if (s == 0 || s > type(uint32).max || k > s) revert FlavumRollupInvalidMetrics(i, j, metrics);
        data = bytes32(inputs[at + 2]);
        bytes32 useKey = _useKey(ctx.repoId, l.from, data);
        uint64 usedIn = _uses[useKey];
        if (usedIn != 0) revert FlavumRollupTrainingReused(ctx.repoId, l.from, data, usedIn);
        _uses[useKey] = ctx.round;
        l.samples += s;
        l.correct += k;
        l.from = bytes32(inputs[at + 1]);
    }

    /// @dev Reverts unless every proof of the round verifies for its inputs under the stored key.
    function _verifyProofs(address key, uint256 repoId, uint64 round, Groth16Batch.Proof[] calldata proofs, uint256[] calldata inputs)
        private
        view
    {
        Groth16Batch.VerifyingKey memory vk = abi.decode(CodeStore.read(key), (Groth16Batch.VerifyingKey));
        if (!Groth16Batch.verifyBatch(vk, proofs, inputs)) revert FlavumRollupInvalidProofs(repoId, round);
    }

    /// @dev Applies the merge, moves the head and extends the accumulator over the round's calldata.
    function _settle(
        Context memory ctx,
        Rollup storage r,
        RoundCommit[] calldata commits,
        Checked[] memory checked,
        RoundMerge calldata merge
    ) private {
        (bytes32 newHead, uint64 mergedSamples) = _applyMerge(ctx.repoId, r, commits, checked, merge, ctx.head);
        bytes32 root = keccak256(abi.encode(r.root, ctx.round, keccak256(msg.data)));
        r.round = ctx.round;
        r.head = newHead;
        r.root = root;
        emit RoundSettled(ctx.repoId, ctx.round, msg.sender, commits.length, merge.commits, newHead, mergedSamples, root);
    }

    /// @dev Applies the round's merge: returns the new head and the merged samples, credited to their authors.
    function _applyMerge(
        uint256 repoId,
        Rollup storage r,
        RoundCommit[] calldata commits,
        Checked[] memory checked,
        RoundMerge calldata merge,
        bytes32 head
    ) private returns (bytes32 newHead, uint64 total) {
        uint256 k = merge.commits.length;
        if (k > MAX_MERGE) revert FlavumRollupMergeCount(k);
        if (k == 0) return (head, 0);
        uint256[] memory pub;
        (pub, total) = _mergeStatement(repoId, commits, checked, merge.commits);
        if (k == 1) {
            uint256 only = merge.commits[0];
            if (merge.weightsHash != checked[only].weights) {
                revert FlavumRollupMergeWeights(only, checked[only].weights, merge.weightsHash);
            }
            return (merge.weightsHash, total);
        }
        address verifier = r.mergeVerifiers[k - 2];
        if (verifier == address(0)) revert FlavumRollupNoMergeVerifier(repoId, k);
        if (uint256(merge.weightsHash) >= FIELD_MODULUS) revert FlavumRollupNotField(merge.weightsHash);
        pub[0] = uint256(merge.weightsHash);
        bytes memory call = abi.encodePacked(_mergeSelector(2 * k + 1), abi.encode(merge.proof), pub);
        (bool ok, bytes memory ret) = verifier.staticcall(call);
        if (!ok || ret.length != 32 || abi.decode(ret, (uint256)) != 1) {
            revert FlavumRollupInvalidMergeProof(repoId, k, verifier);
        }
        newHead = merge.weightsHash;
    }

    /**
     * @dev The merge statement `[·, h_1..h_k, n_1..n_k]` of the round's commits at `indices` (strictly
     * increasing, pairwise distinct weights), crediting each author's samples; returns it and Σ n_i.
     */
    function _mergeStatement(
        uint256 repoId,
        RoundCommit[] calldata commits,
        Checked[] memory checked,
        uint256[] calldata indices
    ) private returns (uint256[] memory pub, uint64 total) {
        uint256 k = indices.length;
        pub = new uint256[](2 * k + 1);
        for (uint256 m; m < k; ++m) {
            uint256 idx = indices[m];
            if (idx >= checked.length || (m > 0 && idx <= indices[m - 1])) {
                revert FlavumRollupMergeIndex(m, idx, checked.length);
            }
            Checked memory c = checked[idx];
            pub[1 + m] = uint256(c.weights);
            pub[1 + k + m] = c.samples;
            for (uint256 j; j < m; ++j) {
                if (pub[1 + j] == pub[1 + m]) revert FlavumRollupMergeDuplicate(indices[j], idx);
            }
            total += c.samples;
            _samples[repoId][commits[idx].author] += c.samples;
        }
    }

    /// @dev ModelRepository's binding formula, with this contract as the contract a proof counts in.
    function _binding(uint256 repoId, address author) private view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), repoId, author))) % FIELD_MODULUS;
    }

    function _useKey(uint256 repoId, bytes32 parentWeights, bytes32 dataHash) private pure returns (bytes32) {
        return keccak256(abi.encode(repoId, parentWeights, dataHash));
    }

    /// @dev snarkjs's `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])` (see ModelRepository).
    function _mergeSelector(uint256 n) private pure returns (bytes4) {
        return bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(n), "])")
            )
        );
    }

    function _requireRole(uint256 repoId, address account, IModelRepository.Role needed) private view {
        if (_repository.roleOf(repoId, account) < needed) {
            revert FlavumRollupMissingRole(repoId, account, uint8(needed));
        }
    }
}
