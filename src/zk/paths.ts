import fs from "fs";
import path from "path";

let cachedRoot: string | undefined;

/**
 * The repository root, found by walking up to Flavum's package.json rather than counting "..", so
 * the answer stays right whether this file runs from src/ under ts-node or from a compiled dist/.
 */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "flavum") return (cachedRoot = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find Flavum's package.json above ${__dirname}`);
    dir = up;
  }
}

/** Where generated, never-committed artifacts go (build/ is gitignored); FLAVUM_CACHE_DIR overrides it. */
export function cacheRoot(): string {
  return process.env.FLAVUM_CACHE_DIR ? path.resolve(process.env.FLAVUM_CACHE_DIR) : path.join(repoRoot(), "build");
}
