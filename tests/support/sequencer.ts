/**
 * The order test files start in. Without vitest's duration cache (a clean clone, as in CI) files go largest
 * first, and these few are small but long (a chaos tier, the type-check, the bench tier): they started last
 * and the run ended on one of them alone (CI, 12-03: the last 34 s on the chaos tier only). They go first;
 * the rest keep vitest's order.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

const LONG_FOR_THEIR_SIZE = ["tests/chaos/short.test.ts", "tests/static/checks.test.ts", "tests/bench/short.test.ts"];

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONG_FOR_THEIR_SIZE.findIndex((path) => file.moduleId.endsWith(path));
      return index < 0 ? LONG_FOR_THEIR_SIZE.length : index;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
