/**
 * Builds the explorer (explorer/ → build/explorer/{index.html, app.js, style.css}) with esbuild, ethers
 * bundled in, so the page works offline and needs nothing but the node that serves it. A node builds
 * it on start when the build is missing or older than its sources; `npm run build:explorer` does it
 * by hand.
 *
 * Files are written beside their targets and renamed over them, so a node serving the folder while
 * another process rebuilds it never sends half a file. esbuild is a development dependency: a node
 * installed without it serves whatever build there is, and says so, rather than refusing to start.
 */
import fs from "fs";
import path from "path";
import { writeFileAtomically } from "../atomicFile";
import { repoRoot } from "../zk/paths";

export const EXPLORER_SOURCES = path.join(repoRoot(), "explorer");
const DEFAULT_OUT = path.join(repoRoot(), "build", "explorer");
const OUTPUTS = ["index.html", "app.js", "style.css"];

type Log = (line: string) => void;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the build in `outDir` must be redone, or undefined when it is up to date. */
export function explorerStale(outDir = DEFAULT_OUT): string | undefined {
  const missing = OUTPUTS.filter((f) => !fs.existsSync(path.join(outDir, f)));
  if (missing.length) return `${missing.join(", ")} missing`;
  const built = Math.min(...OUTPUTS.map((f) => fs.statSync(path.join(outDir, f)).mtimeMs));
  // This file is the build's recipe: changing it counts as changing the sources.
  const sources = Math.max(newestMtime(EXPLORER_SOURCES), fs.statSync(__filename).mtimeMs);
  return sources > built ? "sources changed since the last build" : undefined;
}

export async function buildExplorer(outDir = DEFAULT_OUT, log: Log = () => undefined): Promise<{ outDir: string; bytes: number; ms: number }> {
  const started = Date.now();
  // Loaded here, not at the top: only a build needs it, and production installs may lack it.
  const esbuild: typeof import("esbuild") = require("esbuild");
  const result = await esbuild.build({
    entryPoints: [path.join(EXPLORER_SOURCES, "src", "main.ts")],
    tsconfig: path.join(EXPLORER_SOURCES, "tsconfig.json"),
    bundle: true,
    format: "iife",
    platform: "browser",
    // BigInt literals need es2020; every current browser has it.
    target: "es2020",
    minify: true,
    sourcemap: "linked",
    legalComments: "eof",
    outfile: path.join(outDir, "app.js"),
    write: false,
    logLevel: "silent",
  }).catch((e: { errors?: { text: string; location?: { file: string; line: number } | null }[]; message: string }) => {
    const why = e.errors?.map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ""}${x.text}`).join("; ") ?? e.message;
    throw new Error(`building the explorer failed: ${why}`);
  });
  fs.mkdirSync(outDir, { recursive: true });
  let bytes = 0;
  for (const f of result.outputFiles) {
    writeFileAtomically(f.path, f.contents);
    bytes += f.contents.length;
  }
  for (const f of ["index.html", "style.css"]) writeFileAtomically(path.join(outDir, f), fs.readFileSync(path.join(EXPLORER_SOURCES, f)));
  const ms = Date.now() - started;
  log(`explorer built into ${path.relative(process.cwd(), outDir) || outDir} (${Math.round(bytes / 1024)} KiB in ${ms} ms)`);
  return { outDir, bytes, ms };
}

/** Builds the explorer into build/explorer when it is missing or out of date; never fails the caller. */
export async function ensureExplorerBuilt(log: Log = () => undefined, outDir = DEFAULT_OUT): Promise<void> {
  if (!fs.existsSync(EXPLORER_SOURCES)) return;
  const why = explorerStale(outDir);
  if (!why) return;
  try {
    require.resolve("esbuild");
  } catch {
    log(`explorer: ${why}, and esbuild is not installed (npm install --include=dev); ${fs.existsSync(path.join(outDir, "app.js")) ? "serving the build there is" : "the node serves its API only"}`);
    return;
  }
  log(`explorer: ${why}, building`);
  try {
    await buildExplorer(outDir, log);
  } catch (e) {
    log(`explorer: ${(e as Error).message}; ${fs.existsSync(path.join(outDir, "app.js")) ? "serving the previous build" : "the node serves its API only"}`);
  }
}
