import { HardhatUserConfig, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import fs from "fs";
import path from "path";

// The project never downloads a compiler: solc-js from the `solc` npm package serves every build.
const SOLC_VERSION: string = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  const solc = require("solc");
  return {
    version: SOLC_VERSION,
    longVersion: solc.version(),
    compilerPath: path.join(path.dirname(require.resolve("solc")), "soljson.js"),
    isSolcJs: true,
  };
});

// Development powers of tau shipped beside this checkout in the build environment (../shared/ptau,
// see its README): used when no FLAVUM_PTAU_DIR is given, so local runs don't fall through to a
// slow local ceremony. Production setups point FLAVUM_PTAU / FLAVUM_PTAU_DIR at Hermez files.
const sharedPtau = path.join(__dirname, "..", "shared", "ptau");
if (!process.env.FLAVUM_PTAU_DIR && fs.existsSync(sharedPtau)) process.env.FLAVUM_PTAU_DIR = sharedPtau;

// circom_tester shells out to `circom`; bin/circom forwards to the circom2 (WebAssembly) package.
process.env.PATH = `${path.join(__dirname, "bin")}${path.delimiter}${process.env.PATH ?? ""}`;

import "./tasks";

// The in-process network's chain id, and so `hardhat node`'s: two nodes side by side with different
// ids stand for two EVM chains (FLAVUM_CHAIN_ID, default Hardhat's 31337).
function chainIdFromEnv(): number {
  const v = process.env.FLAVUM_CHAIN_ID;
  if (v === undefined || v === "") return 31337;
  if (!/^[1-9][0-9]{0,15}$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new Error(`FLAVUM_CHAIN_ID must be a positive integer (a chain id such as 31338), got "${v}"`);
  return Number(v);
}

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
  },
  networks: {
    hardhat: { allowUnlimitedContractSize: false, chainId: chainIdFromEnv() },
    localhost: { url: process.env.FLAVUM_RPC_URL || "http://127.0.0.1:8545" },
    // A second EVM chain beside the first (another `hardhat node`, started with its own FLAVUM_CHAIN_ID).
    localhost2: { url: process.env.FLAVUM_RPC_URL_2 || "http://127.0.0.1:8546" },
    // Always defined, so a missing variable is reported by Flavum's tasks (naming it) rather than
    // as Hardhat's "network remote doesn't exist"; the placeholder URL is never dialled by them.
    remote: {
      url: process.env.FLAVUM_RPC_URL || "http://127.0.0.1:1",
      accounts: process.env.FLAVUM_PRIVATE_KEY ? [process.env.FLAVUM_PRIVATE_KEY] : [],
    },
  },
  mocha: { timeout: 30 * 60 * 1000, spec: "test/**/*.test.ts" } as any,
  gasReporter: { enabled: false },
};

export default config;
