import { task } from "hardhat/config";
import { flavumAction, progress } from "./util";
import { runDemo } from "../src/model/demo";

task("demo", "The main job: compile the bundled digits model, prove an inference and verify it on-chain")
  .setAction(flavumAction(async (_a: object, hre) => runDemo(hre, (s) => console.log(s), progress)));
