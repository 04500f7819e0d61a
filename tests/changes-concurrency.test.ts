// Concurrent writers: many processes applying changes to one spec at once. Each change must end either
// applied (its edit is in the spec) or refused as a conflict (with a record) — never silently lost.
// @verifies CHG-9
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseSpec } from "../src/format/spec.js";
import { chainOk, cleanup, events, json, keel, keelAsync, project, read, write } from "./changes-support.js";

afterAll(cleanup);

const N = 16;
const SPEC = "keel/specs/wide/spec.md";
const req = (k: number) =>
  `### Requirement: Case ${k} {#W-${k}}\nThe system SHALL handle case ${k} in the usual way.\n\n#### Scenario: Case ${k}\n- **WHEN** case ${k} happens\n- **THEN** it is handled\n`;

describe("concurrent applies", () => {
  it("8 processes applying 24 changes to one spec: every change is applied or a recorded conflict", async () => {
    const spec = `# Wide\n\n## Purpose\nMany requirements in one file, edited at once.\n\n## Requirements\n\n${Array.from({ length: N }, (_, k) => req(k + 1)).join("\n")}`;
    const root = project({ [SPEC]: spec });
    const living = parseSpec(spec, SPEC, "wide").spec.requirements;
    // A change written the way `keel change new --modify` writes one: the requirement copied into MODIFIED with
    // one edit, and its base (fingerprint and block) recorded in change.yaml.
    const change = (id: string, k: number, replacement: string) => {
      const r = living[k - 1] as (typeof living)[number];
      write(
        root,
        `keel/changes/${id}/proposal.md`,
        `## Why\nEdit case ${k}.\n\n## What Changes\n- Case ${k}.\n`,
      );
      write(
        root,
        `keel/changes/${id}/change.yaml`,
        `id: ${id}\nstatus: draft\nauthor: human:tester\nbase:\n  wide:\n    W-${k}:\n      fingerprint: ${r.fingerprint}\n      block: ${JSON.stringify(r.raw)}\n`,
      );
      write(
        root,
        `keel/changes/${id}/specs/wide/spec.md`,
        `## MODIFIED Requirements\n\n${r.raw.replace("in the usual way", replacement)}`,
      );
    };
    // 16 changes to 16 different requirements: all must land, whatever the interleaving. Then two more changes
    // to each of W-1..W-4 that edit the same words: of each group of three, exactly one lands.
    const ids: string[] = [];
    for (let k = 1; k <= N; k++) {
      change(`c${k}`, k, `in the usual way, edited by c${k}`);
      ids.push(`c${k}`);
    }
    for (let k = 1; k <= 4; k++) {
      for (const side of ["a", "b"]) {
        change(`x${k}${side}`, k, `in the x${k}${side} way`);
        ids.push(`x${k}${side}`);
      }
    }
    const lanes = Array.from({ length: 8 }, (_, lane) => ids.filter((_, k) => k % 8 === lane));
    const results = await Promise.all(
      lanes.map(async (lane) => {
        const out: Array<{ id: string; code: number | null; stderr: string }> = [];
        for (const id of lane) {
          const r = await keelAsync(root, ["change", "apply", id]);
          out.push({ id, code: r.code, stderr: r.stderr });
        }
        return out;
      }),
    );
    const flat = results.flat();
    expect(
      flat.map((r) => r.code).every((c) => c === 0 || c === 4),
      JSON.stringify(flat.filter((r) => r.code !== 0 && r.code !== 4)),
    ).toBe(true);
    const applied = flat.filter((r) => r.code === 0).map((r) => r.id);
    const conflicted = flat.filter((r) => r.code === 4).map((r) => r.id);

    const final = parseSpec(read(root, SPEC), SPEC, "wide").spec.requirements;
    expect(final.map((r) => r.id)).toEqual(Array.from({ length: N }, (_, k) => `W-${k + 1}`));
    // Every applied change's edit is in the spec (no lost update); requirements 5..16 have exactly theirs.
    for (let k = 5; k <= N; k++) {
      expect(applied).toContain(`c${k}`);
      expect(final[k - 1]?.text).toBe(`The system SHALL handle case ${k} in the usual way, edited by c${k}.`);
    }
    for (let k = 1; k <= 4; k++) {
      const group = [`c${k}`, `x${k}a`, `x${k}b`];
      const landed = group.filter((id) => applied.includes(id));
      expect(landed).toHaveLength(1);
      const winner = landed[0] as string;
      expect(final[k - 1]?.markers?.provenance.change).toBe(winner);
      expect(group.filter((id) => conflicted.includes(id)).sort()).toEqual(
        group.filter((id) => id !== winner).sort(),
      );
    }
    // Conflict records for exactly the conflicted changes; archived metadata for exactly the applied ones.
    const open = json<{ conflicts: Array<{ change: string }> }>(
      keel(root, ["conflicts", "--json"]),
    ).conflicts;
    expect(open.map((c) => c.change).sort()).toEqual([...conflicted].sort());
    const list = json<{ changes: Array<{ id: string; status: string }> }>(
      keel(root, ["change", "list", "--all", "--json"]),
    ).changes;
    for (const c of list) expect(c.status).toBe(applied.includes(c.id) ? "applied" : "draft");
    for (const id of applied) {
      const dir = list.find((c) => c.id === id) as unknown as { dir: string };
      expect((parseYaml(read(root, `${dir.dir}/change.yaml`)) as { status: string }).status).toBe("applied");
    }
    const acts = events(root).filter(
      (e) => e.action === "change.apply" || e.action === "change.apply.conflict",
    );
    expect(
      acts
        .filter((e) => e.action === "change.apply")
        .map((e) => e.target)
        .sort(),
    ).toEqual([...applied].sort());
    expect(chainOk(root)).toBe(true);
  });
});
