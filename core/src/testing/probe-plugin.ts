/**
 * A plugin of the conformance kit: records, per request id, whether the error an attempt raised was
 * marked retryable (what a retry policy or fallback would act on). Passes every decision on.
 */
import { definePlugin } from '../plugin.js';
import { OnErrorStage } from '../hooks.js';
import { CORE_VERSION } from '../version.js';

const seen = new Map<string, boolean>();

/** Whether the last failed attempt of that request was retryable (undefined: no attempt failed). */
export function retryableSeen(requestId: string): boolean | undefined {
  return seen.get(requestId);
}

export default definePlugin({
  manifest: { name: '@waygate/core-testing-probe', version: CORE_VERSION, kind: 'other', core: '^1.0.0' },
  setup(api) {
    api.hooks.onError.tap(OnErrorStage.OBSERVE, (err, ctx) => {
      if (seen.size > 10_000) seen.clear();
      seen.set(ctx.id, err.retryable);
      return undefined;
    });
  },
});
