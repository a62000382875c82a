// The operator console: a Preact page that talks only to this gateway's admin API, with the admin key
// (kept in sessionStorage for the tab's life) as a bearer token.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const STORAGE = 'waygate-admin-key';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the admin API's answers, read as they come
type Json = any;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api(key: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function Login({ onKey }: { onKey: (k: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await api(value, 'GET', '/admin/teams');
      sessionStorage.setItem(STORAGE, value);
      onKey(value);
    } catch (err) {
      setError((err as ApiError).status === 401 ? 'That is not the admin key.' : (err as Error).message);
    }
  };
  return (
    <div class="card login">
      <h2>Waygate console</h2>
      <form onSubmit={submit}>
        <label>
          Admin key
          <input id="admin-key" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>
        <p>
          <button class="primary" type="submit" id="login">
            Sign in
          </button>
        </p>
        {error && (
          <p class="err" id="login-error">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}

const FILTERS = ['key', 'team', 'provider', 'model', 'status', 'endpoint'] as const;
const usd = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `$${v.toFixed(v < 0.01 ? 6 : 4)}`);
const time = (iso: string) => new Date(iso).toLocaleTimeString();

function Logs({ k }: { k: string }) {
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<Json[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [detail, setDetail] = useState<Json | null>(null);
  const [error, setError] = useState('');
  const query = (extra: Record<string, string> = {}) => {
    const q = new URLSearchParams();
    for (const [f, v] of Object.entries({ ...filters, ...extra })) if (v) q.set(f, v);
    return q.toString();
  };
  const load = async () => {
    try {
      const r = await api(k, 'GET', `/admin/logs?${query({ limit: '50' })}`);
      setRows(r.data);
      setCursor(r.next_cursor);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const more = async () => {
    if (!cursor) return;
    const r = await api(k, 'GET', `/admin/logs?${query({ limit: '50', cursor })}`);
    setRows([...rows, ...r.data]);
    setCursor(r.next_cursor);
  };
  useEffect(() => {
    void load();
    if (!live) return;
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [JSON.stringify(filters), live]);
  return (
    <div>
      <div class="card">
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const f: Record<string, string> = {};
            for (const name of FILTERS) f[name] = ((e.target as HTMLFormElement).elements.namedItem(name) as HTMLInputElement).value.trim();
            setFilters(f);
          }}
        >
          {FILTERS.map((f) => (
            <label>
              {f}
              <input name={f} size={12} placeholder={f === 'status' ? '5xx' : ''} />
            </label>
          ))}
          <button class="primary" type="submit">
            Filter
          </button>
          <label>
            live
            <input type="checkbox" checked={live} onChange={(e) => setLive((e.target as HTMLInputElement).checked)} />
          </label>
        </form>
        {error && <p class="err">{error}</p>}
      </div>
      <div class="card">
        <table id="log-table">
          <thead>
            <tr>
              <th>time</th>
              <th>key</th>
              <th>team</th>
              <th>endpoint</th>
              <th>provider</th>
              <th>model</th>
              <th>status</th>
              <th>tokens in/out</th>
              <th>cost</th>
              <th>total ms</th>
              <th>upstream ms</th>
              <th>ttft ms</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr class="row" data-testid="log-row" data-id={r.id} onClick={() => setDetail(r)}>
                <td>{time(r.at)}</td>
                <td>{r.key_name ?? r.key_id ?? '–'}</td>
                <td>{r.team ?? '–'}</td>
                <td>{r.endpoint}</td>
                <td>{r.provider ?? '–'}</td>
                <td>{r.model ?? '–'}</td>
                <td class={`status-${String(r.status)[0]}`}>{r.status}</td>
                <td>
                  {r.input_tokens ?? '–'}/{r.output_tokens ?? '–'}
                </td>
                <td>{usd(r.cost_usd)}</td>
                <td>{Math.round(r.total_ms)}</td>
                <td>{Math.round(r.upstream_ms)}</td>
                <td>{r.ttft_ms === null ? '–' : Math.round(r.ttft_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p>No requests logged yet.</p>}
        {cursor && <button onClick={() => void more()}>Older</button>}
      </div>
      {detail && (
        <div class="card" id="log-detail">
          <h3>
            Request {detail.id} <button onClick={() => setDetail(null)}>close</button>
          </h3>
          <pre>{JSON.stringify(detail, null, 2)}</pre>
        </div>
      )}
    </div>
  );
}

/** Bars, one per label, scaled to the largest. */
function Bars({ data, unit }: { data: Array<[string, number]>; unit: (v: number) => string }) {
  const max = Math.max(1e-12, ...data.map(([, v]) => v));
  const h = 22 * data.length + 10;
  return (
    <svg width="100%" height={h} viewBox={`0 0 600 ${h}`} role="img">
      {data.map(([label, v], i) => (
        <g>
          <text x="0" y={i * 22 + 16}>
            {label.slice(0, 28)}
          </text>
          <rect x="180" y={i * 22 + 4} width={Math.max(1, (v / max) * 330)} height="16" fill="#5b8cff" />
          <text x={185 + (v / max) * 330} y={i * 22 + 16}>
            {unit(v)}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** Columns over time: one per bucket of `bucketMs`, stacked by nothing, scaled to the tallest. */
function Timeline({ points }: { points: Array<[number, number]> }) {
  const max = Math.max(1, ...points.map(([, v]) => v));
  const w = 600 / Math.max(1, points.length);
  return (
    <svg width="100%" height="140" viewBox="0 0 600 140" role="img">
      {points.map(([t, v], i) => (
        <g>
          <rect x={i * w + 1} y={120 - (v / max) * 110} width={Math.max(1, w - 2)} height={(v / max) * 110} fill="#2fa37a">
            <title>{`${new Date(t).toLocaleTimeString()}: ${v}`}</title>
          </rect>
        </g>
      ))}
      <text x="0" y="136">
        {points.length ? new Date(points[0]![0]).toLocaleTimeString() : ''}
      </text>
      <text x="520" y="136">
        {points.length ? new Date(points[points.length - 1]![0]).toLocaleTimeString() : ''}
      </text>
      <text x="0" y="10">
        max {max}
      </text>
    </svg>
  );
}

const GROUPS = ['key', 'team', 'model', 'provider'] as const;

function Charts({ k }: { k: string }) {
  const [group, setGroup] = useState<(typeof GROUPS)[number]>('model');
  const [spend, setSpend] = useState<Array<[string, number]>>([]);
  const [traffic, setTraffic] = useState<Array<[number, number]>>([]);
  const [byGroup, setByGroup] = useState<Array<[string, number]>>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    (async () => {
      try {
        const s = await api(k, 'GET', `/admin/spend?group_by=${group}`);
        setSpend(s.data.map((r: Json) => [String(r[group] ?? r[`${group}_id`] ?? '(none)'), Number(r.cost_usd ?? r.usd ?? 0)]));
        const logs = await api(k, 'GET', '/admin/logs?limit=500');
        const rows: Json[] = logs.data;
        const bucket = 60_000;
        const counts = new Map<number, number>();
        const groups = new Map<string, number>();
        for (const r of rows) {
          const t = Math.floor(Date.parse(r.at) / bucket) * bucket;
          counts.set(t, (counts.get(t) ?? 0) + 1);
          const g = String((group === 'key' ? (r.key_name ?? r.key_id) : r[group]) ?? '(none)');
          groups.set(g, (groups.get(g) ?? 0) + 1);
        }
        const ts = [...counts.keys()].sort((a, b) => a - b);
        const points: Array<[number, number]> = [];
        if (ts.length) for (let t = ts[0]!; t <= ts[ts.length - 1]!; t += bucket) points.push([t, counts.get(t) ?? 0]);
        setTraffic(points.slice(-120));
        setByGroup([...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20));
        setError('');
      } catch (err) {
        setError((err as Error).message);
      }
    })();
  }, [group]);
  return (
    <div>
      <div class="card">
        <label>
          by
          <select id="group-by" value={group} onChange={(e) => setGroup((e.target as HTMLSelectElement).value as (typeof GROUPS)[number])}>
            {GROUPS.map((g) => (
              <option value={g}>{g}</option>
            ))}
          </select>
        </label>
        {error && <p class="err">{error}</p>}
      </div>
      <div class="grid">
        <div class="card" id="spend-chart">
          <h3>Spend this month by {group} (USD)</h3>
          {spend.length ? <Bars data={spend} unit={usd} /> : <p>No spend recorded.</p>}
        </div>
        <div class="card" id="requests-chart">
          <h3>Requests by {group} (last 500)</h3>
          {byGroup.length ? <Bars data={byGroup} unit={(v) => String(v)} /> : <p>No requests logged.</p>}
        </div>
      </div>
      <div class="card" id="traffic-chart">
        <h3>Requests per minute</h3>
        <Timeline points={traffic} />
      </div>
    </div>
  );
}

function Keys({ k }: { k: string }) {
  const [keys, setKeys] = useState<Json[]>([]);
  const [teams, setTeams] = useState<Json[]>([]);
  const [made, setMade] = useState<Json | null>(null);
  const [error, setError] = useState('');
  const load = async () => {
    setKeys((await api(k, 'GET', '/admin/keys')).data);
    setTeams((await api(k, 'GET', '/admin/teams')).data);
  };
  useEffect(() => void load().catch((e: Error) => setError(e.message)), []);
  const act = (fn: () => Promise<void>) => () =>
    fn()
      .then(load)
      .then(() => setError(''))
      .catch((e: Error) => setError(e.message));
  const field = (e: Event, name: string) => ((e.target as HTMLFormElement).elements.namedItem(name) as HTMLInputElement).value.trim();
  return (
    <div>
      {error && (
        <p class="err" id="keys-error">
          {error}
        </p>
      )}
      <div class="card">
        <h3>New key</h3>
        <form
          class="inline"
          id="new-key"
          onSubmit={(e) => {
            e.preventDefault();
            const name = field(e, 'name');
            const team = field(e, 'team');
            void act(async () => setMade(await api(k, 'POST', '/admin/keys', { name, ...(team && { team }) })))();
          }}
        >
          <label>
            name
            <input name="name" id="key-name" required />
          </label>
          <label>
            team
            <select name="team">
              <option value="">(none)</option>
              {teams.map((t) => (
                <option value={t.id}>{t.name}</option>
              ))}
            </select>
          </label>
          <button class="primary" type="submit" id="create-key">
            Create key
          </button>
        </form>
        {made && (
          <p class="ok" id="made-key">
            Key {made.name} made: <code>{made.key}</code> (shown this once)
          </p>
        )}
      </div>
      <div class="card">
        <h3>Keys</h3>
        <table id="keys-table">
          <thead>
            <tr>
              <th>id</th>
              <th>name</th>
              <th>team</th>
              <th>created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((x) => (
              <tr data-testid="key-row">
                <td>{x.id}</td>
                <td>{x.name}</td>
                <td>{x.team ?? '–'}</td>
                <td>{x.created_at}</td>
                <td>
                  <button onClick={act(async () => void (await api(k, 'DELETE', `/admin/keys/${encodeURIComponent(x.id)}`)))}>revoke</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h3>Teams</h3>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const name = field(e, 'name');
            void act(async () => void (await api(k, 'POST', '/admin/teams', { name })))();
          }}
        >
          <label>
            name
            <input name="name" id="team-name" required />
          </label>
          <button class="primary" type="submit">
            Create team
          </button>
        </form>
        <table>
          <tbody>
            {teams.map((t) => (
              <tr data-testid="team-row">
                <td>{t.id}</td>
                <td>{t.name}</td>
                <td>{t.budget ? `${usd(t.budget.usd)} / ${t.budget.period}` : 'no budget'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Gateway({ k }: { k: string }) {
  const [info, setInfo] = useState<Json | null>(null);
  const [error, setError] = useState('');
  useEffect(() => void api(k, 'GET', '/admin/gateway').then(setInfo, (e: Error) => setError(e.message)), []);
  if (error) return <p class="err">{error}</p>;
  if (!info) return <p>Loading…</p>;
  return (
    <div class="grid">
      <div class="card" id="plugins">
        <h3>Plugins</h3>
        <ul>
          {info.plugins.map((p: Json) => (
            <li>
              {p.name} <small>({p.from})</small>
            </li>
          ))}
        </ul>
        <h3>Providers</h3>
        <p>{info.providers.join(', ')}</p>
        <h3>Endpoints</h3>
        <p>{info.endpoints.join(', ')}</p>
      </div>
      <div class="card" id="config">
        <h3>Config (secrets masked)</h3>
        <pre>{JSON.stringify(info.config, null, 2)}</pre>
      </div>
    </div>
  );
}

const TABS = { requests: Logs, charts: Charts, keys: Keys, gateway: Gateway } as const;
const TAB_NAMES: Record<keyof typeof TABS, string> = { requests: 'Requests', charts: 'Spend & traffic', keys: 'Keys & teams', gateway: 'Gateway' };

function App() {
  const [key, setKey] = useState<string | null>(sessionStorage.getItem(STORAGE));
  const [tab, setTab] = useState<keyof typeof TABS>('requests');
  if (!key) return <Login onKey={setKey} />;
  const View = TABS[tab];
  return (
    <div>
      <header>
        <h1>Waygate</h1>
        <nav>
          {(Object.keys(TABS) as Array<keyof typeof TABS>).map((t) => (
            <button class={t === tab ? 'active' : ''} id={`tab-${t}`} onClick={() => setTab(t)}>
              {TAB_NAMES[t]}
            </button>
          ))}
        </nav>
        <span class="spacer" />
        <button
          id="logout"
          onClick={() => {
            sessionStorage.removeItem(STORAGE);
            setKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <View k={key} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
