import type { WireRoute } from './request.js';

/**
 * OpenAI's Responses API, passed through: the client's bytes go to `{baseURL}/responses` untouched
 * (new fields survive) and the JSON answer and the SSE stream come back as they are.
 */
export const RESPONSES_PATHS: Record<string, WireRoute> = {
  responses: { path: '/responses', method: 'POST' },
};
