// The deterministic validator Spec Kit and Kiro lack: their structural rules through `keel validate`, and the
// `--profile speckit|kiro` rulesets that report only those (plus the task graph's, duplicate IDs and clarity).
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { jsonOut, keel } from "./support/cli.js";
import { lineOf, tempProjects } from "./support/files.js";

const project = tempProjects("keel-layouts-profiles-");

const SPEC = [
  "# Feature Specification: Albums",
  "",
  "**Status**: Draft",
  "",
  "## User Scenarios & Testing",
  "",
  "### User Story 1 - Create an album (Priority: P1)",
  "",
  "A user groups photos into a named album.",
  "",
  "**Acceptance Scenarios**:",
  "",
  "1. **Given** no albums, **When** the user creates one named Trip, **Then** Trip is listed",
  "",
  "### User Story 2 - Share an album (Priority: P2)",
  "",
  "A user sends a link to an album.",
  "",
  "## Requirements",
  "",
  "- **FR-001**: System MUST keep albums private until shared. [NEEDS CLARIFICATION: private to whom?]",
  "",
].join("\n");

const TASKS = [
  "## Phase 1: Setup",
  "- [ ] T001 Create the project",
  "## Phase 3: User Story 1 - Create an album (Priority: P1)",
  "- [ ] T002 [US1] Album model covering FR-001",
  "## Phase 4: User Story 3 - Delete an album (Priority: P3)",
  "- [ ] T003 [US3] Delete endpoint",
  "",
].join("\n");

const KIRO = [
  "# Requirements Document",
  "",
  "## Introduction",
  "",
  "Pantry items with expiry dates.",
  "",
  "## Requirements",
  "",
  "### Requirement 1",
  "",
  "**User Story:** As a cook, I want to record items, so that I know what I have",
  "",
  "#### Acceptance Criteria",
  "",
  "1. WHEN the cook adds an item THEN the system SHALL store its name and expiry date",
  "2. Items are shown in a list",
  "",
].join("\n");

// @verifies LAY-11
describe("Spec Kit and Kiro rules in keel validate", () => {
  const root = project({
    ".specify/memory/constitution.md": "# Constitution\n",
    "specs/001-albums/spec.md": SPEC,
    "specs/001-albums/plan.md": "# Implementation Plan: Albums\n",
    "specs/001-albums/tasks.md": TASKS,
    ".kiro/specs/pantry/requirements.md": KIRO,
  });

  it("reports a story without scenarios, a marker after the plan, an unknown story and a non-EARS criterion", () => {
    const run = keel(root, "validate", "--json");
    expect(run.code).toBe(1);
    const found = (jsonOut(run).findings as Finding[]).map((f) => ({
      rule: f.rule,
      file: f.file,
      line: f.line,
    }));
    expect(found).toEqual(
      expect.arrayContaining([
        {
          rule: "speckit/story-without-scenario",
          file: "specs/001-albums/spec.md",
          line: lineOf(SPEC, "### User Story 2"),
        },
        {
          rule: "speckit/clarification-after-plan",
          file: "specs/001-albums/spec.md",
          line: lineOf(SPEC, "[NEEDS CLARIFICATION"),
        },
        { rule: "tasks/unknown-requirement", file: "specs/001-albums/tasks.md", line: lineOf(TASKS, "T003") },
        {
          rule: "kiro/criterion-not-ears",
          file: ".kiro/specs/pantry/requirements.md",
          line: lineOf(KIRO, "2. Items"),
        },
      ]),
    );
    // FR-001 mentioned in a task's text is a link, so it is not reported as unknown.
    expect(found.filter((f) => f.rule === "tasks/unknown-requirement")).toHaveLength(1);
  });

  it("keeps only a toolkit's own families under --profile speckit or kiro", () => {
    const speckit = jsonOut(keel(root, "validate", "--profile", "speckit", "--json"));
    const rules = new Set((speckit.findings as Finding[]).map((f) => f.rule));
    expect(rules.has("speckit/story-without-scenario")).toBe(true);
    expect(rules.has("kiro/criterion-not-ears")).toBe(false);
    for (const rule of rules)
      expect(rule).toMatch(/^(speckit|tasks|clarity|format|input)\/|^xref\/duplicate-id$/);
    const kiro = jsonOut(keel(root, "validate", "--profile", "kiro", "--json"));
    const kiroRules = new Set((kiro.findings as Finding[]).map((f) => f.rule));
    expect(kiroRules.has("kiro/criterion-not-ears")).toBe(true);
    expect(kiroRules.has("speckit/story-without-scenario")).toBe(false);
  });
});
