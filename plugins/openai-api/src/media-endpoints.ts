import type { EndpointDefinition } from '@waygate/core';
import { readFormFields } from './form-fields.js';

/**
 * The rest of OpenAI's surface, served as raw endpoints (any body; multipart and binary relayed as
 * bytes): images, audio, files and batches, and every other `/v1/*` path as `passthrough`, forwarded
 * to the target provider as it came. Each has its own id, so a gateway key's `endpoints` rules and
 * the metrics tell them apart; a provider serves each one it lists (OpenAI's family forwards them).
 * A multipart body's text fields are read (not its files): the model it names is the request's.
 */
const ENDPOINTS = [
  { id: 'images.generations', raw: true, routes: [{ method: 'POST', path: '/v1/images/generations' }] },
  { id: 'images.edits', raw: true, routes: [{ method: 'POST', path: '/v1/images/edits' }] },
  { id: 'images.variations', raw: true, routes: [{ method: 'POST', path: '/v1/images/variations' }] },
  { id: 'audio.speech', raw: true, routes: [{ method: 'POST', path: '/v1/audio/speech' }] },
  { id: 'audio.transcriptions', raw: true, routes: [{ method: 'POST', path: '/v1/audio/transcriptions' }] },
  { id: 'audio.translations', raw: true, routes: [{ method: 'POST', path: '/v1/audio/translations' }] },
  {
    id: 'files',
    raw: true,
    routes: [
      { method: 'POST', path: '/v1/files' },
      { method: 'GET', path: '/v1/files' },
      { method: 'GET', path: '/v1/files/*' },
      { method: 'DELETE', path: '/v1/files/*' },
    ],
  },
  {
    id: 'batches',
    raw: true,
    routes: [
      { method: 'POST', path: '/v1/batches' },
      { method: 'GET', path: '/v1/batches' },
      { method: 'GET', path: '/v1/batches/*' },
      { method: 'POST', path: '/v1/batches/*' },
    ],
  },
  {
    id: 'passthrough',
    raw: true,
    routes: [
      { method: 'GET', path: '/v1/*' },
      { method: 'POST', path: '/v1/*' },
      { method: 'DELETE', path: '/v1/*' },
    ],
  },
] satisfies EndpointDefinition[];

/** Each reads a multipart form's text fields (the model an upload names). */
export const MEDIA_ENDPOINTS: readonly EndpointDefinition[] = Object.freeze(ENDPOINTS.map((d) => ({ ...d, readFields: readFormFields })));

/** The ids of the endpoints above: what an OpenAI-format provider forwards as they came. */
export const MEDIA_ENDPOINT_IDS = MEDIA_ENDPOINTS.map((d) => d.id);
