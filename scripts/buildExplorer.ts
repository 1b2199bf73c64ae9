/**
 * `npm run build:explorer`: builds the explorer into build/explorer/ (a node also does it on start
 * when that build is out of date; see src/node/explorerBuild.ts).
 */
import { buildExplorer } from "../src/node/explorerBuild";

buildExplorer(undefined, (line) => console.log(line)).catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
