// Test names: in a test file, a string literal on a line that declares a test and holds a requirement ID is a
// `verifies` link. This module says which lines declare a test; code.ts finds the strings and the IDs.

/** Lines that declare a test (or a group of tests) themselves, the name in a string on the same line. */
const DECLARES = [
  // JavaScript / TypeScript (Vitest, Jest, Mocha, node:test, Playwright), Ginkgo: it("…"), test.each(…)("…"), Describe("…")
  /(?:^|[^\w$.])(?:it|test|describe|context|suite|specify|scenario|feature|Describe|Context|It)(?:\.\w+(?:\([^)]*\))?)*\s*[(`]/,
  // RSpec, Minitest spec, ExUnit, Crystal: it "…" do, test "…" do
  /^\s*(?:it|test|describe|context|specify|scenario|feature|should)\s+["'`]/,
  // Go: func TestX(t *testing.T), subtests t.Run("…", …)
  /\bfunc\s+(?:\([^)]*\)\s*)?(?:Test|Benchmark|Example|Fuzz)\w*\s*[([]/,
  /\.Run\s*\(/,
  // Python (pytest, unittest), Swift (XCTest), PHPUnit
  /^\s*(?:async\s+)?def\s+test\w*\s*\(/,
  /^\s*class\s+Test\w*/,
  /\bfunc\s+test\w*\s*\(/,
  /^\s*(?:(?:public|protected|private|static)\s+)*function\s+test\w*\s*\(/,
];

/** Lines that mark the next line as a test's declaration, and may hold its name themselves (`@Test("…")`). */
const ATTRIBUTES =
  /^\s*(?:@(?:Test|ParameterizedTest|RepeatedTest|TestFactory|DisplayName|pytest\.mark\.\w+)\b|#\[(?:\w+::)*(?:test|rstest)\b|\[(?:Fact|Theory|Test|TestCase|TestMethod|DataTestMethod)\b)/;

/** A Python test function whose docstring, on the next line, names it. */
const PY_TEST_DEF = /^\s*(?:async\s+)?def\s+test\w*\s*\(.*\)\s*(?:->[^:]*)?:\s*(?:#.*)?$/;

/** Whether `line` declares a test, given the previous non-blank line (or "" at the top of the file). */
export function declaresTest(line: string, previous: string): boolean {
  if (ATTRIBUTES.test(line)) return true;
  for (const re of DECLARES) if (re.test(line)) return true;
  if (previous === "") return false;
  if (ATTRIBUTES.test(previous)) return true;
  return PY_TEST_DEF.test(previous) && /^\s*[rRuUbB]?["']/.test(line);
}
