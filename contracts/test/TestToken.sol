// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice A plain OpenZeppelin ERC-20 for the tests and the benchmark: anyone may mint.
contract TestToken is ERC20 {
    constructor() ERC20("Flavum test token", "FTT") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
