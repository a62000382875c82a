// Test only: Anthropic's Messages API as a client-facing endpoint (named stream events, its own error
// shape) and a provider `anthro-test` that passes it through to a custom host, so output guardrails
// can be driven through a gateway on a stream with named events.
import { definePlugin, ErrorCode, GatewayError } from '@waygate/core';

export default definePlugin({
  manifest: { name: 'test-messages-endpoint', version: '1.0.0', kind: 'endpoint', core: '^1.0.0' },
  setup(api) {
    api.register.endpoint({
      id: 'messages',
      routes: [{ method: 'POST', path: '/v1/messages' }],
      stream: {
        isContent: (ev) => ev.event !== 'ping',
        isEnd: (ev) => ev.event === 'message_stop',
        errorOf: (ev, provider) =>
          ev.event === 'error' ? new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${provider} sent an error event`, { retryable: true }) : undefined,
        errorEvent: (err) => ({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: err.type, message: err.message } }) }),
      },
      errorBody: (err) => ({ type: 'error', error: { type: err.type, message: err.message } }),
    });
    api.register.provider({
      id: 'anthro-test',
      endpoints: {
        messages: {
          build: ({ target, body }) => ({
            url: `${target.baseURL}/messages`,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey ?? '' },
            body: JSON.stringify(body),
          }),
        },
      },
    });
  },
});
