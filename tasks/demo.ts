import { task } from "hardhat/config";
import { flavumAction, progress } from "./util";
import { runDemo } from "../src/rollup/demo";

task("demo", "The main job: deploy the rollup, register the bundled digits model, prove and settle a batch of inferences")
  .setAction(flavumAction(async (_a: object, hre) => runDemo(hre, (s) => console.log(s), progress), { artifacts: true }));
