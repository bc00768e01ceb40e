import { expect } from "bun:test";
import { DependencyError } from "../../src/domain/errors";

/** The DependencyError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function dependencyRejection(p: Promise<unknown>): Promise<DependencyError> {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(DependencyError);
  return e as DependencyError;
}
