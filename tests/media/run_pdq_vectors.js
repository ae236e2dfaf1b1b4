#!/usr/bin/env node
/* Hash the PDQ/MD5 vectors in DIR with the portal's own JavaScript and compare with the
 * Python hasher's expected values written by tests/media/make_pdq_vectors.py.
 *
 *   node tests/media/run_pdq_vectors.js tests/media/pdq_vectors
 *
 * Prints one JSON object {checked, failures, results}; exits 1 when any vector (or the DCT
 * table) differs. Vectors without expected values (hypothesis batches) are only hashed, and
 * the Python test compares.
 */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const STATIC = path.join(__dirname, "..", "..", "safeguard", "web", "static", "portal");
const PDQ = require(path.join(STATIC, "pdq.js"));
const MD5 = require(path.join(STATIC, "md5.js"));

function decode(item, dir) {
  const raw = fs.readFileSync(path.join(dir, item.file));
  if (item.encoding === "rgba" || item.encoding === "bytes") return new Uint8Array(raw);
  if (item.encoding !== "rgba-sub-deflate") throw new Error("unknown encoding " + item.encoding);
  const bytes = new Uint8Array(zlib.inflateSync(raw));
  const stride = item.width * 4;
  for (let row = 0; row < item.height; row++) {
    for (let i = row * stride + 4; i < (row + 1) * stride; i++) {
      bytes[i] = (bytes[i] + bytes[i - 4]) & 0xff; // undo PNG's "Sub" filter
    }
  }
  return bytes;
}

function main() {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: node run_pdq_vectors.js DIR (holding vectors.json)\n");
    process.exit(2);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "vectors.json"), "utf8"));
  const failures = [];
  if (manifest.dct_float32_le_sha256) {
    const table = PDQ.dctMatrix();
    const le = Buffer.from(table.buffer, table.byteOffset, table.byteLength); // x86/ARM: LE
    const digest = crypto.createHash("sha256").update(le).digest("hex");
    if (digest !== manifest.dct_float32_le_sha256) {
      failures.push({ name: "dct-table", problem: "DCT table differs from Python's" });
    }
  }
  const results = [];
  for (const item of manifest.vectors) {
    const bytes = decode(item, dir);
    // MD5 fed in uneven pieces, as the browser feeds file slices.
    const md5 = new MD5.MD5();
    for (let start = 0, step = 1; start < bytes.length; start += step, step = step * 3 + 7) {
      md5.update(bytes.subarray(start, Math.min(start + step, bytes.length)));
    }
    const result = { name: item.name, md5: md5.hex() };
    if (item.encoding !== "bytes") {  // "bytes": any file, MD5 only
      const { hex, quality } = PDQ.hashRGBA(bytes, item.width, item.height);
      result.pdq = hex;
      result.quality = quality;
    }
    results.push(result);
    if (item.md5 !== undefined) {
      for (const key of ["pdq", "quality", "md5"].filter((k) => k in item)) {
        if (result[key] !== item[key]) {
          failures.push({ name: item.name, field: key, expected: item[key], got: result[key] });
        }
      }
    }
  }
  process.stdout.write(
    JSON.stringify({ checked: results.length, failures: failures, results: results }) + "\n"
  );
  process.exit(failures.length ? 1 : 0);
}

main();
