import dns from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { z } from 'zod';
import { ErrorCode, GatewayError } from './errors.js';

/**
 * The egress policy: where requests a caller can steer may go (custom hosts from headers and config
 * headers, guardrail webhooks, JWKS and log URLs, a service account's token URI, plugins' calls
 * through `api.egress`). The operator's own base URLs (the config file's) are not its business.
 *
 * A URL's text is checked once per distinct value (`check()`: scheme, credentials, metadata host
 * names, literal addresses); a name is checked where it is resolved, in the connection's own
 * `lookup`, so the address checked is the address connected to (no DNS rebinding between the two).
 * Refusals happen before any socket opens, and are 400s with code `forbidden_custom_host`.
 *
 * Always refused: link-local (169.254.0.0/16 and fe80::/10, where AWS, GCP, Azure, Oracle and
 * DigitalOcean serve instance metadata at 169.254.169.254), unspecified addresses (0.0.0.0 and ::
 * reach this host), AWS's IPv6 metadata address fd00:ec2::254, Alibaba Cloud's 100.100.100.200,
 * Azure's WireServer 168.63.129.16, metadata host names, and those addresses inside IPv4-mapped,
 * NAT64 (64:ff9b::/96) and 6to4 IPv6 addresses. With `"private": "deny"`, everything that is not
 * public unicast (loopback, RFC 1918, ULA fc00::/7, shared 100.64.0.0/10, reserved...) unless the
 * host or address is listed in `allow`.
 */
const METADATA_HOSTS = new Set('metadata.google.internal metadata.goog metadata metadata.azure.com instance-data instance-data.ec2.internal'.split(' '));
const METADATA_ADDRESSES = new Set(['fd00:ec2::254', '100.100.100.200', '168.63.129.16']);
/** Where an IPv4 address sits (a byte offset) in IPv6 ranges that carry one. */
const EMBEDDED: Record<string, number> = { rfc6145: 12, rfc6052: 12, '6to4': 2 };
/** Ranges by ipaddr.js's names; the others read well as they are (`a loopback address`). */
const KIND: Record<string, string> = { uniqueLocal: 'a unique local', carrierGradeNat: 'a shared (100.64.0.0/10)', linkLocal: 'a link-local (metadata)' };

/** An `egress.allow` entry (config.ts): a host name, `*.domain`, an IP address or a CIDR. */
const isNet = (entry: string) => isIP(entry) !== 0 || ipaddr.isValidCIDR(entry);
export const allowEntry = z.string().refine((s) => isNet(s) || /^(\*\.)?[\w-]+(\.[\w-]+)*$/.test(s), 'not a host name, "*.domain", IP address or CIDR');
const refused = (message: string) => new GatewayError(ErrorCode.FORBIDDEN_HOST, 400, message);

export class EgressPolicy {
  readonly private: 'allow' | 'deny';
  /** Host names allowed under "deny", `*.domain` ones included, and networks. */
  readonly #names: string[];
  readonly #nets: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  readonly #verdicts = new Map<string, string | { why: string }>();
  /** An undici dispatcher whose every connection is under the policy (for plugins: `api.egress.dispatcher`). */
  readonly dispatcher = new Agent({ connect: this.connector(10_000, 'host') });

  /** Unset, `private` is "allow" while the gateway listens (`listenHost`) on loopback only, else "deny". */
  constructor(config: { private?: 'allow' | 'deny'; allow: string[] }, listenHost: string) {
    this.private =
      config.private ?? (listenHost === 'localhost' || (isIP(listenHost) && ipaddr.process(listenHost).range() === 'loopback') ? 'allow' : 'deny');
    this.#names = config.allow.filter((e) => !isNet(e)).map((e) => e.toLowerCase());
    this.#nets = config.allow.filter(isNet).map((e) => ipaddr.parseCIDR(e.includes('/') ? e : `${e}/${isIP(e) === 4 ? 32 : 128}`));
  }

  /**
   * Checks a base URL from its text alone (http(s), no credentials, query or fragment, no metadata
   * host name, a literal address the policy allows) and returns it without a trailing slash, or
   * throws a 400 naming `where`. Names are checked when they are resolved, by `dispatcher`. Clients
   * send the same few hosts over and over: verdicts are remembered (bounded) per distinct URL.
   */
  readonly check = (raw: string, where: string): string => {
    let v = this.#verdicts.get(raw);
    if (v === undefined) {
      if (this.#verdicts.size >= 1024) this.#verdicts.delete(this.#verdicts.keys().next().value!);
      this.#verdicts.set(raw, (v = this.#verdict(raw)));
    }
    if (typeof v === 'string') return v;
    throw new GatewayError(ErrorCode.FORBIDDEN_HOST, 400, `${where}: custom host ${JSON.stringify(raw)} is not allowed: ${v.why}`, { param: where });
  };

  #verdict(raw: string): string | { why: string } {
    const url = URL.parse(raw.trim());
    if (!url) return { why: 'not an absolute URL' };
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { why: `scheme ${url.protocol} (only http and https)` };
    if (url.username || url.password) return { why: 'credentials in the URL' };
    if (url.search || url.hash) return { why: 'a query or fragment' };
    const host = url.hostname.replace(/^\[|\]$|\.$/g, ''); // (http(s) host names are lower case already)
    if (METADATA_HOSTS.has(host)) return { why: 'a cloud metadata service' };
    const why = isIP(host) ? this.#refusal(host, host) : undefined;
    return why ? { why: `${host} is ${why}` } : url.href.replace(/\/+$/, '');
  }

  /** Why connecting to `ip` (for the name `host`) is refused, or undefined. */
  #refusal(host: string, ip: string): string | undefined {
    let addr = ipaddr.process(ip);
    const at = addr.kind() === 'ipv6' ? EMBEDDED[addr.range()] : undefined;
    if (at !== undefined) addr = ipaddr.fromByteArray(addr.toByteArray().slice(at, at + 4));
    const range = addr.range();
    if (METADATA_ADDRESSES.has(addr.toString())) return 'a cloud metadata address, always refused';
    const kind = `${KIND[range] ?? `a ${range}`} address`;
    if (range === 'linkLocal' || range === 'unspecified') return `${kind}, always refused`;
    if (this.private === 'allow' || range === 'unicast' || this.#names.some((n) => (n.startsWith('*.') ? host.endsWith(n.slice(1)) : host === n)))
      return undefined;
    const listed = this.#nets.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
    return listed ? undefined : `${kind}, refused by the egress policy (egress.private is "deny")`;
  }

  /**
   * An undici connector under the policy: a literal address is checked before any socket, a name
   * in the socket's own `lookup` (every address it resolves to must pass). `label` opens refusals.
   */
  connector(timeout: number, label: string): buildConnector.connector {
    const lookup: LookupFunction = (hostname, options, callback) =>
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        for (const { address } of addresses) {
          const why = this.#refusal(hostname.replace(/\.$/, ''), address);
          if (why) return callback(refused(`${label} ${hostname} resolves to ${address}, ${why}`), '');
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    const connect = buildConnector({ timeout, lookup });
    return (opts, callback) => {
      const why = isIP(opts.hostname) ? this.#refusal(opts.hostname, opts.hostname) : undefined;
      if (why) callback(refused(`${label} ${opts.hostname} is ${why}`), null);
      else connect(opts, callback);
    };
  }

  /** fetch() through `dispatcher`: what plugins call out with (webhooks, JWKS, token endpoints). */
  readonly fetch = (url: string, init: RequestInit = {}): Promise<Response> =>
    undiciFetch(url, { ...init, dispatcher: this.dispatcher } as never) as unknown as Promise<Response>;
}

const POLICY_FREE = new EgressPolicy({ private: 'allow', allow: [] }, 'localhost');
/** The check without a policy (private addresses allowed; metadata and link-local refused): for the config file's URLs. */
export const checkCustomHost = (raw: string, where: string): string => POLICY_FREE.check(raw, where);
