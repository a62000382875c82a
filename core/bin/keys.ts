import { parseArgs } from 'node:util';
import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * `waygate keys`: the admin API of a running gateway (the auth plugin's /admin/keys), from a shell.
 * A program around the runtime: it only speaks HTTP to the gateway (and `generate` works offline).
 */
export const KEYS_USAGE = `Usage: waygate keys <command> [options]

  create --name NAME [--team ID] [--models P,P] [--providers P,P] [--endpoints P,P]
         [--expires-at ISO-8601] [--json BODY]   make a key; prints it with its text (shown this once)
  list [--team ID] [--include-revoked]           the keys
  show ID                                        one key
  revoke ID                                      revoke a key (refused at once on every replica)
  generate [--id ID] [--name NAME]               offline: a new key and the entry for the config
                                                 file's static keys (its SHA-256, never its text)

  --url URL         the gateway (default: $WAYGATE_URL, else http://127.0.0.1:8787)
  --admin-key KEY   the admin key (default: $WAYGATE_ADMIN_KEY)

Prints the gateway's JSON answer; exits 0 on success, 1 when the gateway refuses (the message on
stderr), 2 on a usage error.`;

class Usage extends Error {}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** Runs `waygate keys <argv>`; resolves with the exit code. */
export async function keysCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        'admin-key': { type: 'string' },
        name: { type: 'string' },
        team: { type: 'string' },
        models: { type: 'string' },
        providers: { type: 'string' },
        endpoints: { type: 'string' },
        'expires-at': { type: 'string' },
        json: { type: 'string' },
        id: { type: 'string' },
        'include-revoked': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`waygate keys: ${(e as Error).message}\n${KEYS_USAGE}\n`);
    return 2;
  }
  const [command, id, ...extra] = positionals;
  if (values.help || command === undefined) {
    (values.help ? out : err)(`${KEYS_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  try {
    if (command === 'generate') {
      const keyId = typeof values.id === 'string' ? values.id : newId();
      if (!/^[0-9a-z]{8}$/.test(keyId)) throw new Usage('--id must be 8 lower-case letters or digits');
      const key = `wg-${keyId}_${randomBytes(32).toString('base64url')}`;
      const entry = { id: keyId, name: typeof values.name === 'string' ? values.name : keyId, sha256: createHash('sha256').update(key).digest('hex') };
      out(`${JSON.stringify({ key, entry }, null, 2)}\n`);
      return 0;
    }
    const base = (typeof values.url === 'string' ? values.url : env.WAYGATE_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '');
    const adminKey = typeof values['admin-key'] === 'string' ? values['admin-key'] : env.WAYGATE_ADMIN_KEY;
    if (!adminKey) throw new Usage('no admin key: pass --admin-key or set WAYGATE_ADMIN_KEY');
    let method = 'GET';
    let route = '/admin/keys';
    let body: unknown;
    const needId = () => {
      if (id === undefined || extra.length) throw new Usage(`${command} takes one key id`);
      return `/admin/keys/${encodeURIComponent(id)}`;
    };
    if (command === 'create') {
      if (id !== undefined) throw new Usage('create takes no id (the gateway makes one)');
      const given: Record<string, unknown> = typeof values.json === 'string' ? parseJson(values.json) : {};
      const fields: Record<string, unknown> = {
        name: values.name,
        team: values.team,
        models: list(values.models as string | undefined),
        providers: list(values.providers as string | undefined),
        endpoints: list(values.endpoints as string | undefined),
        expires_at: values['expires-at'],
      };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) given[k] = v;
      method = 'POST';
      body = given;
    } else if (command === 'list') {
      const q = new URLSearchParams();
      if (typeof values.team === 'string') q.set('team', values.team);
      if (values['include-revoked']) q.set('include_revoked', 'true');
      if (q.size) route += `?${q}`;
    } else if (command === 'show') route = needId();
    else if (command === 'revoke') {
      route = needId();
      method = 'DELETE';
    } else throw new Usage(`unknown command ${JSON.stringify(command)}`);

    let res: Response;
    try {
      res = await fetch(base + route, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      err(`waygate keys: cannot reach ${base}: ${(e as Error).message}\n`);
      return 1;
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const message = (json as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 500);
      err(`waygate keys: the gateway answered ${res.status}: ${message}\n`);
      return 1;
    }
    out(`${JSON.stringify(json ?? text, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof Usage) {
      err(`waygate keys: ${e.message}\n${KEYS_USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

function newId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  let id = '';
  for (let i = 0; i < 8; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new Usage('--json must be a JSON object');
}
