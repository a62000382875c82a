// What the end-to-end tests of gateway keys share: a config with the auth plugin and a provider key
// the gateway holds, and a call to the admin API.

/** A gateway config: the default plugins, the auth plugin's options, the provider key held by the gateway. */
export const authConfig = (upstreamURL: string, auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  plugins: [{ module: '@waygate/auth', options: auth }],
  providers: { openai: { api_key: 'sk-upstream-held', base_url: upstreamURL } },
  routing: { provider: 'openai' },
  ...extra,
});

/** One admin API call with the admin key; the answer's status and JSON body. */
export async function adminCall(url: string, adminKey: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}
