/**
 * The private key of one of the network's accounts, for what must be signed locally: an EIP-4844
 * transaction goes to the node raw (eth_sendRawTransaction), so the node's unlocked accounts cannot sign
 * it. Configured keys, or the network's HD mnemonic; `localhost` is a `hardhat node`, whose accounts come
 * from the in-process network's mnemonic.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { HDNodeWallet, Mnemonic } from "ethers";
import { FlavumError } from "../errors";

type Accounts = string[] | { mnemonic: string; path?: string; initialIndex?: number } | "remote" | unknown;

export function signerPrivateKey(hre: HardhatRuntimeEnvironment, index: number): string {
  let accounts = (hre.network.config as { accounts?: Accounts }).accounts;
  if (accounts === "remote" && (hre.network.name === "localhost" || hre.network.name === "localhost2")) accounts = hre.config.networks.hardhat.accounts as Accounts;
  if (Array.isArray(accounts)) {
    const k = accounts[index];
    if (typeof k === "string") return k;
  } else if (accounts && typeof accounts === "object" && "mnemonic" in (accounts as object)) {
    const a = accounts as { mnemonic: string; path?: string; initialIndex?: number };
    const path = `${a.path ?? "m/44'/60'/0'/0"}/${(a.initialIndex ?? 0) + index}`;
    return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(a.mnemonic), path).privateKey;
  }
  throw new FlavumError(
    `blob transactions are signed locally, but network ${hre.network.name} gives no private key for account ${index} ` +
      `(set FLAVUM_PRIVATE_KEY with --network remote)`,
    "NO_KEY",
  );
}
