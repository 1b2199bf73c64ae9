// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16Batch} from "../libraries/Groth16Batch.sol";

/**
 * @title Groth16BatchHarness (tests only)
 * @notice Exposes Groth16Batch for one verifying key fixed at deployment.
 * @dev The key is kept as the code of a data contract rather than in storage: a 5-input key is 30
 * words, and reading them back as cold storage slots (~63k gas) would outweigh a whole extra proof
 * and make the measured cost per proof a property of the harness instead of the library.
 */
contract Groth16BatchHarness {
    /// @dev Holds abi.encode(vk) as its runtime code.
    address private immutable _keyStore;

    /// @notice A transaction verified a batch of `count` proofs with outcome `valid`.
    event FlavumBatchVerified(uint256 count, bool valid);

    /// @notice Deploying the contract that holds the key failed.
    error FlavumGroth16KeyStoreFailed();

    /// @notice Fixes the verifying key every batch is checked against.
    constructor(Groth16Batch.VerifyingKey memory vk) {
        // abi.encode of a struct with a dynamic member begins with its offset word 0x…20, so the
        // stored code starts with 0x00 (STOP): the data contract does nothing if called.
        bytes memory data = abi.encode(vk);
        // Init code: PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN, then the data.
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length), hex"80600c6000396000f3", data);
        address store;
        assembly ("memory-safe") {
            store := create(0, add(init, 0x20), mload(init))
        }
        if (store == address(0)) revert FlavumGroth16KeyStoreFailed();
        _keyStore = store;
    }

    /// @notice The verifying key, as given to the constructor.
    function verifyingKey() public view returns (Groth16Batch.VerifyingKey memory) {
        return abi.decode(_keyStore.code, (Groth16Batch.VerifyingKey));
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
