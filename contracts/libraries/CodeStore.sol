// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title CodeStore
 * @notice Keeps a blob written once as the runtime code of a data contract. Reading it back costs one
 * EXTCODECOPY (2.6k gas cold plus 3 a word) instead of one cold SLOAD (2.1k gas) a word: a Groth16
 * verifying key of 5 public inputs is 30 words, ~63k gas from storage and ~3k from code.
 */
library CodeStore {
    /// @notice Creating the data contract failed (out of gas, or the blob exceeds EIP-170's 24,576 bytes).
    error FlavumCodeStoreFailed(uint256 length);

    /**
     * @notice Deploys a contract whose code is `data`, and returns its address.
     * @dev The code starts with `data`'s first byte: a caller must store data that begins with 0x00
     * (STOP), as every abi.encode of a struct with a dynamic member does (its offset word 0x…20), so
     * the data contract does nothing when called.
     */
    function write(bytes memory data) internal returns (address store) {
        if (data.length > type(uint16).max) revert FlavumCodeStoreFailed(data.length);
        // Init code: PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN, then the data.
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length), hex"80600c6000396000f3", data);
        assembly ("memory-safe") {
            store := create(0, add(init, 0x20), mload(init))
        }
        if (store == address(0)) revert FlavumCodeStoreFailed(data.length);
    }

    /// @notice The blob `write` stored at `store`.
    function read(address store) internal view returns (bytes memory) {
        return store.code;
    }
}
