// Spec texts several test files build their projects from.

/** A payments capability: PAY-1 (refunds, one scenario) and PAY-2 (receipts, one scenario). */
export const PAYMENTS_SPEC = `# Payments

## Purpose
Taking payments.

## Requirements

### Requirement: Refunds are idempotent {#PAY-1}
The system SHALL process at most one refund per refund key.

#### Scenario: Duplicate refund
- **WHEN** a second request with the same key arrives
- **THEN** the original result is returned

### Requirement: Receipts {#PAY-2}
The system SHALL send a receipt for every payment.

#### Scenario: Receipt
- **WHEN** a payment succeeds
- **THEN** a receipt is sent
`;

/** Tasks for PAYMENTS_SPEC: 1.1 covers PAY-1, 1.2 covers nothing. */
export const PAYMENTS_TASKS = `## 1. Refunds
- [ ] 1.1 Make refunds idempotent
  - covers: PAY-1
- [ ] 1.2 Write the docs
`;

/** PAYMENTS_TASKS with a verification command on 1.1, which passes once `refunds.ok` exists. */
export const PAYMENTS_TASKS_VERIFIED = PAYMENTS_TASKS.replace(
  "  - covers: PAY-1\n",
  "  - covers: PAY-1\n  - verify: `test -f refunds.ok`\n",
);

/** The core MCP tools, sorted: what `keel mcp` lists without `--tools`. */
export const CORE_TOOLS = [
  "keel_claim_task",
  "keel_complete_task",
  "keel_context",
  "keel_heartbeat",
  "keel_note",
  "keel_propose_change",
  "keel_ready_tasks",
  "keel_requirement",
  "keel_search",
];

/** The nine spec-driven phases of a change, in order, as the issue that introduced them names them. */
export const NINE_PHASES = [
  "constitution",
  "specify",
  "clarify",
  "plan",
  "tasks",
  "analyze",
  "checklist",
  "implement",
  "review",
];

/** An approved requirement block with one SHALL and one scenario, as lines of a spec. */
export function requirementLines(id: string, title: string, text: string): string[] {
  return [
    `### Requirement: ${title} {#${id}}`,
    "> status: approved",
    `The system SHALL ${text}.`,
    "",
    "#### Scenario: It happens",
    "- **WHEN** it is asked",
    "- **THEN** it is done",
    "",
  ];
}
