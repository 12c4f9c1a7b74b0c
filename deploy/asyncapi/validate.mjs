// Validate an AsyncAPI document with the official parser; print diagnostics as JSON, exit 1 on errors.
// Usage: node validate.mjs <asyncapi.json|yaml>
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), { source: file });
const errors = diagnostics.filter((d) => d.severity === 0);
const summary = {
  valid: document !== undefined && errors.length === 0,
  version: document ? document.version() : null,
  channels: document ? document.channels().all().map((c) => c.address()) : [],
  operations: document ? document.operations().all().map((o) => o.id()) : [],
  messages: document ? document.components().messages().all().length : 0,
  errors: errors.map((d) => ({ code: d.code, message: d.message, path: d.path.join("/") })),
  warnings: diagnostics.filter((d) => d.severity === 1).length,
};
console.log(JSON.stringify(summary));
process.exit(summary.valid ? 0 : 1);
