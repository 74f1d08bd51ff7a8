// Apollo Client 4: automatic persisted queries with PersistedQueryLink (the first call registers
// the document, later calls send only its hash, over POST and over GET), and uploads with
// apollo-upload-client (multipart, with the preflight header the server requires).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { before, test } from "node:test";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";

import { BASE, GRAPHQL, liveSchema, login, possibleTypes, recordingFetch, saveRequest } from "./lib.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
let token;
let types;

before(async () => {
  token = await login("demo");
  types = possibleTypes(await liveSchema());
});

function apollo(calls, { useGET = false } = {}) {
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET });
  const http = new HttpLink({
    uri: GRAPHQL,
    fetch: recordingFetch(calls),
    headers: { Authorization: `Bearer ${token}` },
  });
  return new ApolloClient({
    link: ApolloLink.from([persisted, http]),
    cache: new InMemoryCache({ possibleTypes: types }),
  });
}

const sentQuery = (call) =>
  call.method === "GET" ? call.url.searchParams.has("query") : "query" in JSON.parse(call.body);
const sentHash = (call) => {
  const extensions =
    call.method === "GET" ? JSON.parse(call.url.searchParams.get("extensions")) : JSON.parse(call.body).extensions;
  return extensions.persistedQuery.sha256Hash;
};

for (const useGET of [false, true]) {
  test(`APQ over ${useGET ? "GET" : "POST"}: the first call registers, the next ones send only the hash`, async () => {
    const query = useGET
      ? gql`query ApqOverGet { viewer { username role } }`
      : gql`query ApqOverPost { viewer { username enterprise { uscc } } }`;
    const calls = [];
    const client = apollo(calls, { useGET });
    const first = await client.query({ query, fetchPolicy: "network-only" });
    assert.equal(first.data.viewer.username, "demo");
    // Hash only → PERSISTED_QUERY_NOT_FOUND → hash and query again (Apollo retries with POST).
    assert.deepEqual(
      calls.map((call) => [call.method, sentQuery(call)]),
      [[useGET ? "GET" : "POST", false], ["POST", true]],
    );
    assert.equal(sentHash(calls[0]), sentHash(calls[1]));

    calls.length = 0;
    const second = await client.query({ query, fetchPolicy: "network-only" });
    assert.deepEqual(second.data, first.data);
    assert.deepEqual(calls.map((call) => [call.method, sentQuery(call)]), [[useGET ? "GET" : "POST", false]]);

    // Another client (another tab, another worker's cache): found by hash at once.
    const elsewhere = [];
    const other = await apollo(elsewhere, { useGET }).query({ query, fetchPolicy: "network-only" });
    assert.deepEqual(other.data, first.data);
    assert.equal(elsewhere.length, 1);
  });
}

test("a mutation goes by hash over POST even when queries use GET", async () => {
  const calls = [];
  const client = apollo(calls, { useGET: true });
  const mutation = gql`mutation SaveByHash($input: SaveCoordinationInput!) {
    saveCoordination(input: $input) { message errors { code field } }
  }`;
  const variables = { input: { type: "CCPIT_CERTIFICATE" } };
  const first = await client.mutate({ mutation, variables });
  assert.ok(first.data.saveCoordination.errors.length > 0, "an incomplete form is refused in the payload");
  assert.ok(calls.every((call) => call.method === "POST"));
  calls.length = 0;
  await client.mutate({ mutation, variables });
  assert.deepEqual(calls.map((call) => [call.method, sentQuery(call)]), [["POST", false]]);
});

test("apollo-upload-client uploads a file that downloads and previews byte for byte", async () => {
  const png = await readFile(process.env.XHSZ_SAMPLE_PNG);
  const request = await saveRequest(token, "Apollo upload test");
  const calls = [];
  const client = new ApolloClient({
    link: new UploadHttpLink({
      uri: GRAPHQL,
      fetch: recordingFetch(calls),
      headers: { Authorization: `Bearer ${token}`, "Apollo-Require-Preflight": "true" },
    }),
    cache: new InMemoryCache({ possibleTypes: types }),
  });
  const { data } = await client.mutate({
    mutation: gql`mutation Upload($id: ID!, $slot: AttachmentSlot!, $file: Upload!) {
      uploadAttachment(coordinationId: $id, slot: $slot, file: $file) {
        message
        errors { code message }
        attachment { id fileName contentType size sha256 downloadUrl previewUrl }
      }
    }`,
    variables: {
      id: request.id,
      slot: "OTHER_1",
      file: new File([png], "进口照片.png", { type: "image/png" }),
    },
  });
  assert.ok(calls[0].body instanceof FormData, "sent as a multipart request");
  const payload = data.uploadAttachment;
  assert.deepEqual(payload.errors, []);
  assert.equal(payload.attachment.fileName, "进口照片.png");
  assert.equal(payload.attachment.contentType, "image/png");
  assert.equal(payload.attachment.sha256, sha256(png));
  for (const link of [payload.attachment.downloadUrl, payload.attachment.previewUrl]) {
    const response = await fetch(new URL(link, BASE));
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), png);
  }
});
