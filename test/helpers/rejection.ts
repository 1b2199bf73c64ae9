/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection<E extends Error = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected the promise to reject");
}
