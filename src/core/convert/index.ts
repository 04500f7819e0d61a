// Converting between layouts: `keel import` (a toolkit's project → Keel) and `keel export` (Keel → Spec Kit or
// OpenSpec). See docs/layouts.md, "Converting".
// @req LAY-12
export { EXPORT_TARGETS, type ExportReport, type ExportTarget, exportLayout } from "./export.js";
export { type ImportReport, importLayout } from "./import.js";
