// What every client test shares: where the server is, logging in, the live schema, and a fetch
// that records what a client sent (method, URL, body) so a test can assert the protocol.
import { buildClientSchema, getIntrospectionQuery, isAbstractType } from "graphql";

export const BASE = process.env.XHSZ_URL ?? "";
if (!BASE) throw new Error("set XHSZ_URL to the running server, e.g. http://127.0.0.1:8000");
export const GRAPHQL = `${BASE}/graphql`;
export const PASSWORD = process.env.XHSZ_DEMO_PASSWORD ?? "demo-password";

/** One GraphQL request with fetch; returns { status, body }. */
export async function post(body, { token, headers = {} } = {}) {
  const response = await fetch(GRAPHQL, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** A fresh bearer token for a demo user (each login is a session of its own). */
export async function login(username = "demo") {
  const { body } = await post({
    query: "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }",
    variables: { u: username, p: PASSWORD },
  });
  const token = body.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return token;
}

/** The live schema's introspection result ({ __schema }). */
export async function introspection() {
  const { body } = await post({ query: getIntrospectionQuery() });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** The live schema, by introspection. */
export async function liveSchema() {
  return buildClientSchema(await introspection());
}

/** Apollo's possibleTypes (unions and interfaces → their object types), from the schema. */
export function possibleTypes(schema) {
  const found = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type) && !type.name.startsWith("__")) {
      found[type.name] = schema.getPossibleTypes(type).map((member) => member.name);
    }
  }
  return found;
}

/** A fetch that records each request before sending it. */
export function recordingFetch(calls) {
  return async (input, init = {}) => {
    const url = new URL(String(input));
    calls.push({ method: init.method ?? "GET", url, body: init.body ?? null });
    return fetch(input, init);
  };
}

/** Saves a CCPIT request (the demo's form) and returns its id. */
export async function saveRequest(token, reason) {
  const { body } = await post(
    {
      query: `mutation($input: SaveCoordinationInput!) {
        saveCoordination(input: $input) { coordination { ... on Coordination { id coordinationNo } } errors { field code message } }
      }`,
      variables: {
        input: {
          type: "CCPIT_CERTIFICATE",
          certificateNo: "CCPIT26E3501000321",
          agreementCode: "02",
          exportDeclarationNo: "350120260000321654",
          importDeclarationNo: "VN-2026-0001",
          contactName: "林晓",
          contactPhone: "13812345678",
          reason,
        },
      },
    },
    { token },
  );
  const payload = body.data?.saveCoordination;
  if (!payload || payload.errors.length) throw new Error(`save failed: ${JSON.stringify(body)}`);
  return payload.coordination;
}
