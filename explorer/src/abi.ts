/**
 * The one contract function the page calls, written out by hand so the page needs no build step
 * from the contracts; test/e2e/explorer.browser.e2e.test.ts checks it against the compiled
 * FlavumRollup artifact, so a change of the contract's signature fails a test instead of the page.
 * (No DOM here: the test imports this file.)
 */
export const VERIFY_INFERENCE_ABI = [
  "function verifyInference(uint256 batchId, (uint256 modelId, uint256 requestId, uint256 inputHash, uint256 outputWord) entry, uint256 index, uint256[] path) view returns (bool)",
] as const;
