/**
 * src/sdk/apiTypes.ts is read by the SDK package and by the explorer's browser bundle alike: it must
 * stay types only, with no import of any kind (a Node module, or anything that pulls one in, would
 * break one side or the other without the type checks of either saying so).
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import ts from "typescript";
import { REPO } from "../helpers/circuit";

describe("the API's shared JSON types (src/sdk/apiTypes.ts)", () => {
  const file = path.join(REPO, "src", "sdk", "apiTypes.ts");
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);

  it("imports nothing, not even types", () => {
    const imports = source.statements.filter((s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s) || (ts.isExportDeclaration(s) && s.moduleSpecifier));
    expect(imports.map((s) => s.getText())).to.deep.equal([]);
    const types: string[] = [];
    const visit = (n: ts.Node) => {
      if (ts.isImportTypeNode(n)) types.push(n.getText());
      ts.forEachChild(n, visit);
    };
    visit(source);
    expect(types, "import(\"…\") types").to.deep.equal([]);
  });

  it("declares types only: nothing is left of it in JavaScript", () => {
    const values = source.statements.filter((s) => !ts.isInterfaceDeclaration(s) && !ts.isTypeAliasDeclaration(s));
    expect(values.map((s) => s.getText().slice(0, 80))).to.deep.equal([]);
  });
});
