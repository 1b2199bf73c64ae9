// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IFlavumState} from "../interfaces/IFlavumState.sol";

interface IDataPointResults {
    function dataPointResult(uint256 dpId, uint256 modelId)
        external
        view
        returns (bool found, uint256 outputWord, uint256 batchId);
}

/**
 * @title DataPointToken
 * @notice A rollup data point on L1: minted by its FlavumState when its owner claims an exit (or withdraws in
 * exodus), burnt when it is deposited back. Token id = data-point id. It carries the data point's content
 * commitment and answers for its proven inference results, so other dApps can read both from the token.
 */
contract DataPointToken is ERC721 {
    /// @notice Only the minter `minter` may mint and burn.
    error FlavumNotMinter(address minter);

    IFlavumState private immutable _state;
    IDataPointResults private immutable _results;

    /// @param results the rollup recording proven results of data points
    constructor(address results) ERC721("Flavum data point", "FLVDP") {
        _state = IFlavumState(msg.sender);
        _results = IDataPointResults(results);
    }

    modifier onlyMinter() {
        if (msg.sender != address(_state)) revert FlavumNotMinter(address(_state));
        _;
    }

    /// @notice Mints token `dpId` to `to` (the state contract, on a claim or exodus withdrawal).
    function mint(address to, uint256 dpId) external onlyMinter {
        _safeMint(to, dpId);
    }

    /// @notice Burns token `dpId` (the state contract, when its holder deposits it back).
    function burn(uint256 dpId) external onlyMinter {
        _burn(dpId);
    }

    /// @notice The content commitment (Poseidon, as model circuits compute `inputHash`), size and bit width.
    function contentOf(uint256 dpId) external view returns (uint256 contentHash, uint256 size, uint8 bits) {
        _requireOwned(dpId);
        IFlavumState.DataPoint memory d = _state.dataPoint(dpId);
        return (d.contentHash, d.size, d.bits);
    }

    /// @notice Model `modelId`'s proven result on this data point (`found` false if none was delivered).
    function resultOf(uint256 dpId, uint256 modelId)
        external
        view
        returns (bool found, uint256 outputWord, uint256 batchId)
    {
        return _results.dataPointResult(dpId, modelId);
    }

    /// @notice The state contract that mints these tokens.
    function stateContract() external view returns (address) {
        return address(_state);
    }
}
