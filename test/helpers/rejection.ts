import { expect } from "chai";
import { FlavumError } from "../../src/errors";

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection<E extends Error = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected the promise to reject");
}

/** The FlavumError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function flavumRejection(p: Promise<unknown>): Promise<FlavumError> {
  const e = await rejection(p);
  expect(e).to.be.instanceOf(FlavumError);
  return e as FlavumError;
}
