// Prints the closing line CI reads ("N passed, N failed, N skipped") from Vitest's JSON report. Exit 0 when all
// passed, 1 when some failed, 2 when there is no report (then it prints nothing and the caller says so).
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".test-results/report.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch {
  console.error(`no test report at ${file}`);
  process.exit(2);
}
const passed = report.numPassedTests ?? 0;
let failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
// A file that fails outside any test (a failing beforeAll, say) fails no test: count the file then.
if (report.success === false && failed === 0) failed = Math.max(report.numFailedTestSuites ?? 0, 1);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
