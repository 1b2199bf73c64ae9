// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlavumState} from "../interfaces/IFlavumState.sol";

/**
 * @title PackedContent
 * @notice The Solidity twin of `circuits/lib/PackedHash.circom` and `src/quant/commitment.ts` for the
 * inputs a single Poseidon call can take: values offset to unsigned, packed floor(250 / bits) to a field
 * element, and hash = Poseidon(n, packed_0, ..., packed_{P-1}). The circuit chains Poseidon(16) every 15
 * packed elements; the hashers circomlibjs generates take at most 6 inputs, so on chain P <= 5 — the same
 * value whenever P <= 5. Computing the commitment here, from range-checked values, means every data point's
 * content is provable by any model of its layout: nobody can deposit a commitment no input opens.
 */
library PackedContent {
    /// @dev Most packed elements one on-chain hasher call takes (6 inputs, the first is n).
    uint256 internal constant MAX_PACKED = 5;

    /// @notice How many `bits`-bit values fit the on-chain hash.
    function maxValues(uint8 bits) internal pure returns (uint256) {
        return MAX_PACKED * (250 / uint256(bits));
    }

    /// @notice The packed elements of `values`, with n first: the hasher's inputs.
    function pack(int256[] calldata values, uint8 bits) internal pure returns (uint256[] memory inputs) {
        uint256 per = 250 / uint256(bits);
        uint256 n = values.length;
        uint256 packed = (n + per - 1) / per;
        inputs = new uint256[](packed + 1);
        inputs[0] = n;
        int256 offset = int256(1 << (bits - 1));
        for (uint256 i; i < n; ++i) {
            int256 v = values[i];
            if (v < -offset || v >= offset) revert IFlavumState.FlavumContentOutOfRange(i, v, bits);
            inputs[1 + i / per] |= uint256(v + offset) << (uint256(bits) * (i % per));
        }
    }

    /// @notice Calls the circomlibjs hasher of `inputs.length` inputs (`poseidon(uint256[n])`).
    function hash(address hasher, uint256[] memory inputs) internal view returns (uint256 out) {
        uint256 n = inputs.length;
        bytes4 selector = bytes4(keccak256(abi.encodePacked("poseidon(uint256[", bytes1(uint8(48 + n)), "])")));
        (bool ok, bytes memory ret) = hasher.staticcall(abi.encodePacked(selector, inputs));
        if (!ok || ret.length != 32) revert IFlavumState.FlavumNoHasher(n);
        out = abi.decode(ret, (uint256));
    }
}
