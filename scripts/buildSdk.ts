/**
 * Builds @flavum/sdk into packages/sdk/dist (npm run build:sdk; then `npm pack` in packages/sdk):
 *   - src/sdk/** and the few modules it imports, compiled with packages/sdk/tsconfig.json;
 *   - the TypeChain factories and types those import (typechain-types/, from `hardhat compile`);
 *   - dist/abi/<Contract>.json: the ABI arrays of the contracts a dApp talks to;
 *   - dist/deployments/<network>.json: the recorded deployments of shared networks.
 * The package must run without the project: every module the output requires has to be a
 * dependency of the package or part of Node, which is checked here rather than found by a user.
 *
 * Flags: --no-compile (the artifacts are known fresh), --quiet.
 */
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { builtinModules } from "module";
import { deploymentsFile } from "../src/chain/deployments";

const REPO = path.resolve(__dirname, "..");
const PKG_DIR = path.join(REPO, "packages", "sdk");
const DIST = path.join(PKG_DIR, "dist");

/** The contracts whose ABIs ship, by Hardhat fully qualified name. */
export const SDK_CONTRACTS = [
  "contracts/rollup/FlavumRollup.sol:FlavumRollup",
  "contracts/registry/ModelRegistry.sol:ModelRegistry",
  "contracts/rollup/FlavumState.sol:FlavumState",
  "contracts/rollup/DataPointToken.sol:DataPointToken",
  "contracts/repos/ModelRepository.sol:ModelRepository",
  "contracts/interfaces/IFlavumInference.sol:IFlavumInference",
  "contracts/interfaces/IFlavumConsumer.sol:IFlavumConsumer",
  "contracts/examples/DigitBounty.sol:DigitBounty",
];

/**
 * Networks whose records describe one developer's chain (a `hardhat node`), gitignored in
 * deployments/: in a package they would point every user at addresses on nobody's chain.
 */
const LOCAL_NETWORKS = new Set(["localhost", "hardhat"]);

class BuildError extends Error {}

function run(cmd: string, args: string[], quiet: boolean): void {
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit", encoding: "utf8" });
  if (r.status !== 0) throw new BuildError(`${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})${quiet ? `:\n${r.stdout}${r.stderr}` : ""}`);
}

/** Exact versions, the ones the project is tested with: a range would let users get others. */
function checkDependencyVersions(): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(PKG_DIR, "package.json"), "utf8"));
  const deps: Record<string, string> = pkg.dependencies ?? {};
  for (const [name, want] of Object.entries(deps)) {
    // Read from disk: ethers' "exports" hides its package.json from require.
    const file = path.join(REPO, "node_modules", name, "package.json");
    if (!fs.existsSync(file)) throw new BuildError(`@flavum/sdk depends on ${name}, which the project does not have installed (npm ci first)`);
    const have = JSON.parse(fs.readFileSync(file, "utf8")).version;
    if (have !== want) throw new BuildError(`packages/sdk/package.json pins ${name} ${want}, but the project runs ${name} ${have}: set it to ${have}`);
  }
  return deps;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Every bare module the output loads (or its types name) must be a dependency or part of Node. */
function checkImports(deps: Record<string, string>): void {
  const builtins = new Set(builtinModules);
  const bad: string[] = [];
  for (const f of walk(DIST).filter((f) => /\.(js|d\.ts)$/.test(f))) {
    const text = fs.readFileSync(f, "utf8");
    for (const m of text.matchAll(/(?:require\(|from\s+|import\()\s*["']([^"']+)["']/g)) {
      const spec = m[1];
      if (spec.startsWith(".")) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (builtins.has(name.replace(/^node:/, "")) || deps[name]) continue;
      bad.push(`${path.relative(DIST, f)} loads "${spec}"`);
    }
  }
  if (bad.length)
    throw new BuildError(`the SDK's import graph reaches modules the package does not depend on (refactor the import in src/, do not add the dependency):\n  ${bad.join("\n  ")}`);
}

function copyAbis(): string[] {
  const out = path.join(DIST, "abi");
  fs.mkdirSync(out, { recursive: true });
  return SDK_CONTRACTS.map((fqn) => {
    const [source, name] = fqn.split(":");
    const file = path.join(REPO, "artifacts", source, `${name}.json`);
    if (!fs.existsSync(file)) throw new BuildError(`no artifact for ${fqn} at ${path.relative(REPO, file)}: run npx hardhat compile`);
    const artifact = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(artifact.abi, null, 2) + "\n");
    return name;
  });
}

function copyDeployments(): string[] {
  const dir = path.dirname(deploymentsFile("any"));
  if (!fs.existsSync(dir)) return [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !LOCAL_NETWORKS.has(f.slice(0, -5)));
  if (!files.length) return [];
  const out = path.join(DIST, "deployments");
  fs.mkdirSync(out, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(dir, f), path.join(out, f));
  return files.map((f) => f.slice(0, -5));
}

/** dist/index.*: a stable entry whatever the layout of the compiled tree beneath it. */
function writeEntry(): void {
  const main = "./src/sdk/index";
  if (!fs.existsSync(path.join(DIST, `${main}.js`))) throw new BuildError(`tsc did not emit ${main}.js`);
  fs.writeFileSync(path.join(DIST, "index.js"), `"use strict";\nmodule.exports = require("${main}.js");\n`);
  fs.writeFileSync(path.join(DIST, "index.d.ts"), `export * from "${main}";\n`);
}

export function buildSdk(opts: { compile?: boolean; quiet?: boolean } = {}): { abis: string[]; deployments: string[]; files: number } {
  const quiet = Boolean(opts.quiet);
  const deps = checkDependencyVersions();
  if (opts.compile !== false) run("npx", ["hardhat", "compile", "--quiet"], quiet);
  fs.rmSync(DIST, { recursive: true, force: true });
  run(path.join(REPO, "node_modules", ".bin", "tsc"), ["-p", path.join(PKG_DIR, "tsconfig.json")], quiet);
  writeEntry();
  checkImports(deps);
  const abis = copyAbis();
  const deployments = copyDeployments();
  return { abis, deployments, files: walk(DIST).length };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  try {
    const r = buildSdk({ compile: !args.includes("--no-compile"), quiet: args.includes("--quiet") });
    console.log(`@flavum/sdk built in ${path.relative(process.cwd(), DIST) || DIST}: ${r.files} files, ABIs ${r.abis.join(", ")}; ` +
      `deployments ${r.deployments.length ? r.deployments.join(", ") : "none (deployments/ records no shared network)"}. Pack it with: cd packages/sdk && npm pack`);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    process.stderr.write(`Error: ${e.message}\n`);
    process.exitCode = 1;
  }
}
