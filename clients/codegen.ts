// GraphQL Codegen (client preset) against the live server: typed documents for src/**/*.ts and
// the persisted-documents manifest ({"<sha256>": "<document>"}) that XHSZ_TRUSTED_DOCUMENTS loads.
import type { CodegenConfig } from "@graphql-codegen/cli";

const url = process.env.XHSZ_URL;
if (!url) throw new Error("set XHSZ_URL to the running server, e.g. http://127.0.0.1:8000");

const config: CodegenConfig = {
  schema: `${url}/graphql`,
  documents: ["src/**/*.ts"],
  ignoreNoDocuments: false,
  generates: {
    "./generated/": {
      preset: "client",
      presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" }, fragmentMasking: false },
      config: { enumsAsTypes: true, strictScalars: true, scalars: { DateTime: "string", Date: "string", Upload: "File" } },
    },
  },
};
export default config;
