// The living specs a change works on, read on demand and cached for one command.
import { lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseSpec } from "../../format/spec.js";
import type { NativeLayout, Requirement, Spec } from "../../model/types.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { livingSpecRel, livingSpecsDir, readText } from "./load.js";

export interface LivingSpec {
  rel: string;
  text: string | null;
  spec: Spec | null;
}

export class LivingSpecs {
  private readonly cache = new Map<string, LivingSpec>();
  constructor(private readonly project: ProjectRoot) {}

  get(layout: NativeLayout, capability: string): LivingSpec {
    const key = `${layout}\u0000${capability}`;
    let hit = this.cache.get(key);
    if (!hit) {
      const rel = livingSpecRel(this.project, layout, capability);
      const text = readText(this.project, rel);
      hit = { rel, text, spec: text === null ? null : parseSpec(text, rel, capability, layout).spec };
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** Every capability with a living spec in the layout (folder path below specs/). */
  capabilities(layout: NativeLayout): string[] {
    const root = join(this.project.root, livingSpecsDir(this.project, layout));
    const out: string[] = [];
    const walk = (abs: string, cap: string) => {
      let entries: string[];
      try {
        entries = readdirSync(abs).sort();
      } catch {
        return;
      }
      for (const name of entries) {
        if (name.startsWith(".")) continue;
        const p = join(abs, name);
        if (name === "spec.md" && cap !== "") out.push(cap);
        else if (!lstatSync(p).isSymbolicLink() && isDir(p)) walk(p, cap ? `${cap}/${name}` : name);
      }
    };
    walk(root, "");
    return out;
  }

  /** The living requirement with this ID in the layout, with its capability; null when there is none. */
  findRequirement(layout: NativeLayout, id: string): { capability: string; req: Requirement } | null {
    for (const cap of this.capabilities(layout)) {
      const req = this.get(layout, cap).spec?.requirements.find((r) => r.id === id);
      if (req) return { capability: cap, req };
    }
    return null;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
