declare module "circomlibjs" {
  export function buildPoseidon(): Promise<any>;
}
