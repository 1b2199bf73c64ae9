// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Batch} from "../libraries/Groth16Batch.sol";
import {CodeStore} from "../libraries/CodeStore.sol";

/**
 * @title Groth16BatchHarness (tests only)
 * @notice Exposes Groth16Batch for one verifying key fixed at deployment.
 * @dev The key is kept in a CodeStore rather than in storage: reading 30 cold slots back (~63k gas)
 * would outweigh a whole extra proof and make the measured cost per proof a property of the harness
 * instead of the library.
 */
contract Groth16BatchHarness {
    /// @dev Holds abi.encode(vk) as its runtime code.
    address private immutable _keyStore;

    /// @notice A transaction verified a batch of `count` proofs with outcome `valid`.
    event FlavumBatchVerified(uint256 count, bool valid);

    /// @notice Fixes the verifying key every batch is checked against.
    constructor(Groth16Batch.VerifyingKey memory vk) {
        _keyStore = CodeStore.write(abi.encode(vk));
    }

    /// @notice The verifying key, as given to the constructor.
    function verifyingKey() public view returns (Groth16Batch.VerifyingKey memory) {
        return abi.decode(CodeStore.read(_keyStore), (Groth16Batch.VerifyingKey));
    }

    /// @notice Groth16Batch.hashKey of the stored key (what the batch challenges commit to).
    function keyHash() external view returns (bytes32) {
        return Groth16Batch.hashKey(verifyingKey());
    }

    /// @notice Whether every proof is valid for its inputs (`inputs` flat, one row per proof).
    function verifyBatch(Groth16Batch.Proof[] calldata proofs, uint256[] calldata inputs) external view returns (bool) {
        return Groth16Batch.verifyBatch(verifyingKey(), proofs, inputs);
    }

    /// @notice verifyBatch in a transaction, so a receipt shows what settling a batch costs.
    function verifyBatchTx(Groth16Batch.Proof[] calldata proofs, uint256[] calldata inputs) external returns (bool valid) {
        valid = Groth16Batch.verifyBatch(verifyingKey(), proofs, inputs);
        emit FlavumBatchVerified(proofs.length, valid);
    }

    /// @notice Gas of the library call alone: no transaction, calldata, dispatch or key loading.
    function verifyBatchGas(Groth16Batch.Proof[] calldata proofs, uint256[] calldata inputs) external view returns (uint256 used, bool valid) {
        Groth16Batch.VerifyingKey memory vk = verifyingKey();
        uint256 before = gasleft();
        valid = Groth16Batch.verifyBatch(vk, proofs, inputs);
        used = before - gasleft();
    }
}
