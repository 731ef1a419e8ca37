// Validates the example checkpoints in tests/fixtures against the exported JSON Schema
// with Ajv (JSON Schema 2020-12, strict mode): a validator that is not Python.
//
//   node tests/ajv/validate.js [SCHEMA] [FIXTURES]
//
// Prints one JSON array: for each file, its path (relative to FIXTURES), the verdict
// its folder or name promises, and Ajv's verdict with the failing instance paths.
// Exits 0 when every verdict is the promised one, 1 otherwise.
"use strict";

const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020").default;

const root = path.resolve(__dirname, "..", "..");
const schemaPath = process.argv[2] || path.join(root, "schemas", "rustgpt-checkpoint-1.0.schema.json");
const fixtures = process.argv[3] || path.join(root, "tests", "fixtures");

// Folder -> what the schema must say. reader-invalid files break rules only the reader
// checks (shapes, order, unique words), so the schema accepts them. v0 files are
// RustGPT's own JSON, not format 1.0, except the one named as migrated to 1.0.
const EXPECTED = {
  valid: () => true,
  golden: () => true,
  "reader-invalid": () => true,
  "schema-invalid": () => false,
  v0: (name) => name.includes("migrated-1.0"),
};

function expectedVerdict(file) {
  const folder = path.dirname(file).split(path.sep)[0];
  return EXPECTED[folder](path.basename(file));
}

function examples() {
  const files = [];
  for (const folder of Object.keys(EXPECTED)) {
    const dir = path.join(fixtures, folder);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith(".json")) files.push(path.join(folder, name));
    }
  }
  return files;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));

const results = examples().map((file) => {
  const document = JSON.parse(fs.readFileSync(path.join(fixtures, file), "utf8"));
  const valid = validate(document);
  return {
    file: file.split(path.sep).join("/"),
    expected: expectedVerdict(file),
    valid,
    errors: valid ? [] : [...new Set(validate.errors.map((e) => e.instancePath))],
  };
});

process.stdout.write(JSON.stringify(results, null, 2) + "\n");
process.exitCode = results.every((r) => r.valid === r.expected) ? 0 : 1;
