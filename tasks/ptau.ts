import { task } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { intArg } from "./args";
import { fetchHermez } from "../src/zk/hermez";
import { ptauCacheDir } from "../src/zk/ptau";

task("ptau:fetch", "Download the public Hermez powers of tau for 2^N and check it against its pinned blake2b-512")
  .addParam("power", "Power N of the file (8..20); one file serves every circuit of up to 2^N constraints")
  .addOptionalParam("dir", "Folder to keep it in (default: the ptau cache that resolvePtau reads, build/ptau)")
  .addOptionalParam("url", "A mirror of the same file (the pinned hash still applies)")
  .setAction(
    flavumAction(async (a: { power: string; dir?: string; url?: string }) => {
      const dir = a.dir ? userPath(a.dir) : ptauCacheDir();
      const { file } = await fetchHermez(intArg("power", a.power), dir, { url: a.url, progress });
      // stdout gets the path alone, so scripts can capture it; the story went to stderr.
      console.log(file);
    }),
  );
