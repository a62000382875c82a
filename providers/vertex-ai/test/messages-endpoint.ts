// Test only: a minimal definition of Anthropic's Messages API as a client-facing endpoint, so the
// pass-through can be driven through a real gateway before a bundled endpoint plugin serves it.
// Streams: every event but `ping` is content; `message_stop` ends a stream; `event: error` is a failure.
import { GatewayError, ErrorCode, definePlugin } from '@waygate/core';

export default definePlugin({
  manifest: { name: 'test-anthropic-messages-endpoint', version: '0.0.0', kind: 'endpoint', core: '^1.0.0' },
  setup(kernel) {
    kernel.endpoints.register({
      id: 'messages',
      routes: [{ method: 'POST', path: '/v1/messages' }],
      stream: {
        isContent: (ev) => ev.event !== 'ping',
        isEnd: (ev) => ev.event === 'message_stop',
        errorOf: (ev, provider) =>
          ev.event === 'error' ? new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${provider} sent an error event`, { retryable: true }) : undefined,
        errorEvent: (err) => ({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: err.message } }) }),
      },
      errorBody: (err) => ({ type: 'error', error: { type: err.type, message: err.message } }),
    });
  },
});
