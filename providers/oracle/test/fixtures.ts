// Reads the recorded upstream answers in test/fixtures/ (shaped from OCI's Generative AI inference API
// reference): <name>.json (a ChatResult or EmbedTextResult body, or for errors the whole answer with
// its status and opc-request-id) and <name>.sse (a chat stream with isStream: true). The files stay in
// the source tree: tests run from dist/test/, so they are found from the package root.
import { fixtures } from '@waygate/core/testing';
import { makeKeyPair } from './fake-oci.js';

const recorded = fixtures(import.meta.url);

export const jsonFixture = recorded.json;
export const sseFixture = recorded.sse;

export const TENANCY = 'ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq';
export const USER = 'ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq';
export const FINGERPRINT = '20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34';
export const KEY_ID = `${TENANCY}/${USER}/${FINGERPRINT}`;
export const COMPARTMENT = 'ocid1.compartment.oc1..aaaaaaaa5ocqmxlyzmdkqyvbxxeqwzq6pz6mjvtfdhzm3cbqlrvvqsnwakcq';

/** The test's API signing key pair (made once per run: the fake verifies with its public half). */
export const KEYS = makeKeyPair();

/** The target options of a signed request (Portkey's names), for a config node. */
export const ORACLE_TARGET = {
  oracle_region: 'us-chicago-1',
  oracle_compartment_id: COMPARTMENT,
  oracle_tenancy: TENANCY,
  oracle_user: USER,
  oracle_fingerprint: FINGERPRINT,
  oracle_private_key: KEYS.privateKey,
};

/** The Authorization header of a signed POST with this key. */
export const SIGNED_POST = new RegExp(
  `^Signature version="1",keyId="${KEY_ID.replace(/[.]/g, '\\.')}",algorithm="rsa-sha256",headers="date \\(request-target\\) host content-length content-type x-content-sha256",signature="[A-Za-z0-9+/]{342}=="$`,
);

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'The city' } }, required: ['city'] },
  },
};
