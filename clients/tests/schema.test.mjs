// GraphQL Inspector diffs the live schema (introspection) against the committed schema.graphql:
// nothing breaking, and in fact nothing at all (the snapshot is the contract).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";

import { liveSchema } from "./lib.mjs";

test("the live schema is the committed schema.graphql", async () => {
  const committed = buildSchema(await readFile(new URL("../../schema.graphql", import.meta.url), "utf8"));
  const changes = await diff(committed, await liveSchema());
  const breaking = changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking);
  assert.deepEqual(breaking.map((change) => change.message), []);
  assert.deepEqual(changes.map((change) => change.message), []);
});

test("GraphQL Inspector does see a breaking change (the check can fail)", async () => {
  const committed = buildSchema(await readFile(new URL("../../schema.graphql", import.meta.url), "utf8"));
  const changed = buildSchema(
    (await readFile(new URL("../../schema.graphql", import.meta.url), "utf8")).replace(
      /^  previewUrl: String!$/m,
      "  previewUri: String!",
    ),
  );
  const changes = await diff(committed, changed);
  assert.deepEqual(
    changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking).map((change) => change.path),
    ["Attachment.previewUrl"],
  );
});
