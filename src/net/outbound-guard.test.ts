import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { parseIp } from '../util/ip.js';
import {
  type Destination,
  type DestinationPolicy,
  guardedHttpGet,
  OutboundError,
  parseOutboundUrl,
  type Resolver,
  refusedAddress,
  refusedRange,
  vetDestination,
} from './outbound-guard.js';

function isCode(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof OutboundError, `expected an OutboundError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** A resolver from a table; counts lookups. Unknown names fail like NXDOMAIN. */
function tableResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string) => {
    calls.push(host);
    const a = table[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
  return Object.assign(fn, { calls });
}

/** The resolver must not be asked about literals: a throwing one proves it. */
const noLookup: Resolver = async (host) => {
  throw new Error(`unexpected lookup of ${host}`);
};

describe('refused ranges (bytes, not text)', () => {
  const refused = [
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.168.0.1',
    '198.18.0.1',
    '198.19.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fdff:ffff::1',
    'fe80::1',
    'febf::1',
    'fec0::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::192.168.1.1',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo client 127.0.0.1
    '2001:db8::1',
    '100::1',
  ];
  const allowed = [
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.0',
    '192.167.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450::1',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    'fbff::1',
    'fe00::1',
  ];
  test('refuses every address in the refused ranges, IPv4 embedded in IPv6 included', () => {
    for (const a of refused) assert.notEqual(refusedRange(parseIp(a)!), null, a);
  });
  test('allows addresses just outside each range and public IPv4 embedded in IPv6', () => {
    for (const a of allowed) assert.equal(refusedRange(parseIp(a)!), null, a);
  });
  test('names the range, and the embedded IPv4 address when there is one', () => {
    assert.match(refusedAddress('127.0.0.1')!, /loopback \(127\.0\.0\.0\/8\)/);
    assert.match(refusedAddress('::ffff:169.254.169.254')!, /IPv4-mapped 169\.254\.169\.254: link-local/);
    assert.match(refusedAddress('2002:a00:1::')!, /6to4.*10\.0\.0\.1: private/);
  });
  test('fails closed on anything that is not an address', () => {
    for (const t of ['', 'localhost', '127.1', '0x7f000001', '1.2.3.4.5', 'fe80::1::2'])
      assert.notEqual(refusedAddress(t), null, t);
    assert.notEqual(refusedRange(new Uint8Array(5)), null);
  });
});

/** Spellings of loopback or "this host"; every one must be refused without a DNS lookup. */
const LOOPBACK_SPELLINGS = [
  '127.0.0.1',
  '2130706433',
  '0x7f000001',
  '0X7F000001',
  '0x7f.1',
  '0x7f.0.0.1',
  '0177.0.0.1',
  '0177.0.0.01',
  '017700000001',
  '127.1',
  '127.0.1',
  '127.0.0.1.',
  '%31%32%37.0.0.1',
  '\uff11\uff12\uff17.0.0.1',
  '127.000.000.001',
  '0.0.0.0',
  '0',
  '0x0',
  '[::]',
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:1]',
  '[0:0:0:0:0:ffff:127.0.0.1]',
  '[::127.0.0.1]',
  '[64:ff9b::7f00:1]',
  '[2002:7f00:1::]',
  '169.254.169.254',
  '2852039166', // 169.254.169.254, the cloud metadata service
  '[::ffff:a9fe:a9fe]',
];

describe('URL parsing and destination checks', () => {
  test('every spelling of a refused address in an http URL is refused', async () => {
    for (const h of LOOPBACK_SPELLINGS) {
      const t = parseOutboundUrl(`http://${h}:8080/announce`, ['http']);
      await assert.rejects(
        vetDestination(t.host, t.port, { resolve: noLookup }),
        isCode('NET_DESTINATION_REFUSED'),
        h,
      );
    }
  });
  test('every spelling is refused in a udp URL too (its host is normalised like an http host)', async () => {
    for (const h of LOOPBACK_SPELLINGS) {
      const t = parseOutboundUrl(`udp://${h}:6969/announce`, ['udp']);
      assert.equal(t.port, 6969);
      await assert.rejects(
        vetDestination(t.host, t.port, { resolve: noLookup }),
        isCode('NET_DESTINATION_REFUSED'),
        h,
      );
    }
  });
  test('vetDestination normalises a bare host the same way', async () => {
    for (const h of LOOPBACK_SPELLINGS)
      await assert.rejects(
        vetDestination(h, 80, { resolve: noLookup }),
        isCode('NET_DESTINATION_REFUSED'),
        h,
      );
    await assert.rejects(vetDestination('::1', 80, { resolve: noLookup }), isCode('NET_DESTINATION_REFUSED'));
  });
  test('user info is refused outright, however it is hidden', () => {
    for (const u of [
      'http://evil.example@127.0.0.1/announce',
      'http://a:b@tracker.example/announce',
      'http://a@b.example@127.0.0.1/announce',
      'http://%40@127.0.0.1/announce',
      'http://:x@tracker.example/announce',
      'http://127.0.0.1%3A80@evil.example/announce',
      'udp://evil@127.0.0.1:6969',
      'udp://127.0.0.1:6969\\@evil.example',
      'https://user@tracker.example/',
    ])
      assert.throws(() => parseOutboundUrl(u, ['http', 'https', 'udp']), isCode('NET_USERINFO_REFUSED'), u);
    assert.throws(() => parseOutboundUrl('x', ['http']), isCode('NET_BAD_URL'));
  });
  test('the backslash trick reads the host the way fetch does (127.0.0.1), not as evil.example', async () => {
    const t = parseOutboundUrl('http://127.0.0.1:9\\@evil.example/announce', ['http']);
    assert.equal(t.host, '127.0.0.1');
    await assert.rejects(
      vetDestination(t.host, t.port, { resolve: noLookup }),
      isCode('NET_DESTINATION_REFUSED'),
    );
  });
  test('only the listed schemes are fetched, and udp needs a port', () => {
    for (const u of ['file:///etc/passwd', 'gopher://127.0.0.1:70/', 'ftp://x.example/', 'data:,x'])
      assert.throws(() => parseOutboundUrl(u, ['http', 'https']), isCode('NET_BAD_URL'), u);
    assert.throws(() => parseOutboundUrl('udp://tracker.example/announce', ['udp']), isCode('NET_BAD_URL'));
    assert.throws(() => parseOutboundUrl('udp://tracker.example:0', ['udp']), isCode('NET_BAD_URL'));
  });
  test('a name is resolved and every address it resolves to is checked', async () => {
    const resolve = tableResolver({
      'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
      'mixed.example': ['93.184.216.34', '10.0.0.5'],
      'mixed6.example': ['2606:2800:220:1::1', 'fd00::5'],
      'internal.example': ['192.168.1.10'],
      'mapped.example': ['::ffff:127.0.0.1'],
      'metadata.example': ['169.254.169.254'],
      'public-mapped.example': ['::ffff:93.184.216.34'],
      'empty.example': [],
      'junk.example': ['not-an-address'],
    });
    assert.deepEqual(await vetDestination('public.example', 80, { resolve }), {
      address: '93.184.216.34',
      family: 4,
    });
    // A mapped public address comes back as plain IPv4, ready for a udp4 socket.
    assert.deepEqual(await vetDestination('public-mapped.example', 80, { resolve }), {
      address: '93.184.216.34',
      family: 4,
    });
    for (const name of [
      'mixed.example',
      'mixed6.example',
      'internal.example',
      'mapped.example',
      'metadata.example',
    ])
      await assert.rejects(
        vetDestination(name, 80, { resolve }),
        (err: unknown) =>
          isCode('NET_DESTINATION_REFUSED')(err) && (err as OutboundError).message.includes(name),
        name,
      );
    await assert.rejects(vetDestination('junk.example', 80, { resolve }), isCode('NET_DESTINATION_REFUSED'));
    await assert.rejects(vetDestination('empty.example', 80, { resolve }), isCode('NET_RESOLVE_FAILED'));
    await assert.rejects(vetDestination('nxdomain.example', 80, { resolve }), isCode('NET_RESOLVE_FAILED'));
  });
  test('allowPrivate lets refused ranges through; the system resolver reads localhost as loopback', async () => {
    assert.deepEqual(await vetDestination('0x7f.1', 80, { allowPrivate: true }), {
      address: '127.0.0.1',
      family: 4,
    });
    await assert.rejects(vetDestination('localhost', 80), isCode('NET_DESTINATION_REFUSED'));
    const ok = await vetDestination('localhost', 80, { allowPrivate: true });
    assert.notEqual(refusedAddress(ok.address), null);
  });
  test('a lookup that never answers is cut off by the signal', async () => {
    const hang: Resolver = () => new Promise(() => {});
    const started = Date.now();
    // A ref'd timer: AbortSignal.timeout alone would not keep the test's event loop alive.
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(vetDestination('slow.example', 80, { resolve: hang }, ac.signal));
    assert.ok(Date.now() - started < 2000);
  });
});

/** Loopback servers that count their hits; one plays a public tracker through `refusal`. */
interface Hits {
  canary: number;
  public: number;
  hosts: string[];
}

describe('guardedHttpGet against real loopback servers', () => {
  const hits: Hits = { canary: 0, public: 0, hosts: [] };
  const servers: Server[] = [];
  let canaryPort = 0;
  let publicPort = 0;
  let policy: DestinationPolicy & { resolve: ReturnType<typeof tableResolver> };

  const listen = (host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void) =>
    new Promise<number>((resolve) => {
      const s = createServer(handler);
      servers.push(s);
      s.listen(port, host, () => resolve((s.address() as AddressInfo).port));
    });

  const canaryHandler = (_req: IncomingMessage, res: ServerResponse): void => {
    hits.canary++;
    res.end('canary');
  };

  /** The public server's routes: `/redirect?to=…`, `/loop`, `/big`, `/chunked-big`, `/hang`, `/ok`. */
  const publicHandler = (req: IncomingMessage, res: ServerResponse): void => {
    hits.public++;
    hits.hosts.push(req.headers.host ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to')! });
      res.end();
    } else if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
    } else if (url.pathname === '/big') {
      res.writeHead(200, { 'content-length': 10_000 });
      res.end(Buffer.alloc(10_000));
    } else if (url.pathname === '/chunked-big') {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      res.end();
    } else if (url.pathname === '/hang') {
      res.writeHead(200);
      res.write('x');
    } else res.end(`ok ${req.headers['accept-encoding']}`);
  };

  before(async () => {
    canaryPort = await listen('127.0.0.1', 0, canaryHandler);
    await listen('::1', canaryPort, canaryHandler);
    publicPort = await listen('127.0.0.1', 0, publicHandler);
    policy = {
      resolve: tableResolver({
        'public.test': ['127.0.0.1'],
        'internal.test': ['127.0.0.1'],
        'rebind.test': ['127.0.0.1'],
      }),
      // Test-only: the "public" server is on loopback, so it is allowed by port; everything else
      // gets the production rule.
      refusal: (d: Destination) => (d.port === publicPort ? null : refusedAddress(d.address)),
    };
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const resetHits = (): void => {
    hits.canary = 0;
    hits.public = 0;
    hits.hosts.length = 0;
  };

  test('the loopback canary is never reached through any spelling of its address', async () => {
    resetHits();
    for (const h of LOOPBACK_SPELLINGS) {
      await assert.rejects(
        guardedHttpGet(`http://${h}:${canaryPort}/announce`, { timeoutMs: 2000 }),
        isCode('NET_DESTINATION_REFUSED'),
        h,
      );
    }
    // A name that resolves to loopback: through the system resolver, and through an injected one.
    await assert.rejects(
      guardedHttpGet(`http://localhost:${canaryPort}/`, { timeoutMs: 2000 }),
      isCode('NET_DESTINATION_REFUSED'),
    );
    await assert.rejects(
      guardedHttpGet(`http://internal.test:${canaryPort}/`, { resolve: policy.resolve, timeoutMs: 2000 }),
      isCode('NET_DESTINATION_REFUSED'),
    );
    for (const u of [`http://x@127.0.0.1:${canaryPort}/`, `http://a@b@127.0.0.1:${canaryPort}/`])
      await assert.rejects(guardedHttpGet(u, { allowPrivate: true }), isCode('NET_USERINFO_REFUSED'));
    assert.equal(hits.canary, 0);
  });

  test('with allowPrivate the same server is reached, once per request', async () => {
    resetHits();
    for (const h of ['127.0.0.1', '2130706433', '0x7f.1', '[::1]', '[::ffff:127.0.0.1]']) {
      const res = await guardedHttpGet(`http://${h}:${canaryPort}/x`, {
        allowPrivate: true,
        timeoutMs: 2000,
      });
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(res.body).toString(), 'canary');
    }
    assert.equal(hits.canary, 5);
  });

  test('the connection is pinned to the vetted address and keeps the name in the Host header', async () => {
    resetHits();
    policy.resolve.calls.length = 0;
    // public.test exists only in the injected resolver: the request can only succeed if the
    // socket uses the vetted address instead of resolving the name again.
    const res = await guardedHttpGet(`http://public.test:${publicPort}/ok?a=1`, policy);
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.body).toString(), 'ok identity');
    assert.deepEqual(hits.hosts, [`public.test:${publicPort}`]);
    assert.deepEqual(policy.resolve.calls, ['public.test']);
  });

  test('a redirect from an allowed server to a refused address is not followed', async () => {
    const targets: Array<[number, string]> = [
      [302, `http://127.0.0.1:${canaryPort}/`],
      [301, `http://2130706433:${canaryPort}/`],
      [303, `http://0x7f.1:${canaryPort}/`],
      [307, `http://[::1]:${canaryPort}/`],
      [308, `http://[::ffff:127.0.0.1]:${canaryPort}/`],
      [302, `http://0.0.0.0:${canaryPort}/`],
      [302, `http://internal.test:${canaryPort}/`],
      [302, `http://localhost:${canaryPort}/`],
      [302, `//127.0.0.1:${canaryPort}/`],
    ];
    for (const [status, to] of targets) {
      resetHits();
      const url = `http://public.test:${publicPort}/redirect?status=${status}&to=${encodeURIComponent(to)}`;
      await assert.rejects(
        guardedHttpGet(url, {
          ...policy,
          resolve: tableResolver({
            'public.test': ['127.0.0.1'],
            'internal.test': ['10.0.0.1'],
            localhost: ['::1', '127.0.0.1'],
          }),
        }),
        isCode('NET_DESTINATION_REFUSED'),
        to,
      );
      assert.equal(hits.public, 1, to);
      assert.equal(hits.canary, 0, to);
    }
  });

  test('redirects to user info, other schemes and bad locations are refused', async () => {
    const cases: Array<[string, string]> = [
      [`http://x@127.0.0.1:${canaryPort}/`, 'NET_USERINFO_REFUSED'],
      [`http://x@public.test:${publicPort}/ok`, 'NET_USERINFO_REFUSED'],
      ['file:///etc/passwd', 'NET_BAD_URL'],
      [`gopher://127.0.0.1:${canaryPort}/`, 'NET_BAD_URL'],
      ['http://[::1', 'NET_BAD_REDIRECT'],
    ];
    resetHits();
    for (const [to, code] of cases) {
      const url = `http://public.test:${publicPort}/redirect?to=${encodeURIComponent(to)}`;
      await assert.rejects(guardedHttpGet(url, policy), isCode(code), to);
    }
    assert.equal(hits.canary, 0);
  });

  test('redirects between allowed URLs are followed up to the limit, each hop resolved again', async () => {
    resetHits();
    policy.resolve.calls.length = 0;
    const to = encodeURIComponent(`http://rebind.test:${publicPort}/ok`);
    const res = await guardedHttpGet(`http://public.test:${publicPort}/redirect?to=${to}`, policy);
    assert.equal(res.status, 200);
    assert.equal(res.url, `http://rebind.test:${publicPort}/ok`);
    assert.deepEqual(policy.resolve.calls, ['public.test', 'rebind.test']);
    resetHits();
    await assert.rejects(
      guardedHttpGet(`http://public.test:${publicPort}/loop`, { ...policy, maxRedirects: 2 }),
      isCode('NET_TOO_MANY_REDIRECTS'),
    );
    assert.equal(hits.public, 3);
    resetHits();
    await assert.rejects(
      guardedHttpGet(`http://public.test:${publicPort}/loop`, { ...policy, maxRedirects: 0 }),
      isCode('NET_TOO_MANY_REDIRECTS'),
    );
    assert.equal(hits.public, 1);
  });

  test('bodies over the cap fail, whether declared or streamed', async () => {
    for (const path of ['/big', '/chunked-big'])
      await assert.rejects(
        guardedHttpGet(`http://public.test:${publicPort}${path}`, { ...policy, maxBytes: 4096 }),
        isCode('NET_RESPONSE_TOO_LARGE'),
        path,
      );
    const exact = await guardedHttpGet(`http://public.test:${publicPort}/big`, {
      ...policy,
      maxBytes: 10_000,
    });
    assert.equal(exact.body.length, 10_000);
  });

  test('a server that never finishes is cut off by the timeout or the caller signal', async () => {
    const started = Date.now();
    await assert.rejects(
      guardedHttpGet(`http://public.test:${publicPort}/hang`, { ...policy, timeoutMs: 150 }),
      isCode('NET_TIMEOUT'),
    );
    await assert.rejects(
      guardedHttpGet(`http://public.test:${publicPort}/hang`, {
        ...policy,
        signal: AbortSignal.timeout(100),
      }),
      isCode('NET_ABORTED'),
    );
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(
      guardedHttpGet(`http://public.test:${publicPort}/ok`, { ...policy, signal: aborted.signal }),
      isCode('NET_ABORTED'),
    );
    assert.ok(Date.now() - started < 3000);
  });

  test('a closed port is an HTTP failure, not a hang', async () => {
    const closed = await listen('127.0.0.1', 0, () => {});
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    await assert.rejects(
      guardedHttpGet(`http://127.0.0.1:${closed}/`, { allowPrivate: true, timeoutMs: 2000 }),
      isCode('NET_HTTP_FAILED'),
    );
  });
});

/** A self-signed certificate for `tracker.test`, made for this test only (never trusted anywhere). */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVWdcERq+1U4bs77m
6Gl1EmqQ4aviRjQKnMVTONYR5ZehRANCAAST8xbpyN6IHbf6m42EHE9VXy3oi4rJ
FRsYYqAVCBtoBCYB5tvDnDayl/XVg6PdrJZGz1DPrDamppYLWJxZt0Og
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIUHYt/eoVBHfjYUqbUiGDlCpC3IKEwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdHJhY2tlci50ZXN0MCAXDTI2MTIwMjA1MzYxN1oYDzIxMjYx
MTA4MDUzNjE3WjAXMRUwEwYDVQQDDAx0cmFja2VyLnRlc3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAST8xbpyN6IHbf6m42EHE9VXy3oi4rJFRsYYqAVCBtoBCYB
5tvDnDayl/XVg6PdrJZGz1DPrDamppYLWJxZt0Ogo2wwajAdBgNVHQ4EFgQU0EQW
fvr2v7GoTa6vujOQb0THSpAwHwYDVR0jBBgwFoAU0EQWfvr2v7GoTa6vujOQb0TH
SpAwDwYDVR0TAQH/BAUwAwEB/zAXBgNVHREEEDAOggx0cmFja2VyLnRlc3QwCgYI
KoZIzj0EAwIDSAAwRQIgdLiqas/9x9Z7HulZKd4XFqW0H2R10sJx2EmDDYlEx2EC
IQD68OB+OyuDMqAw//BhFsDhD1nKINiB2n7XlewQlkkccA==
-----END CERTIFICATE-----`;

test('HTTPS keeps the original name for SNI and certificate checks while connecting to the pinned address', async () => {
  const sni: string[] = [];
  let connections = 0;
  const context = createSecureContext({ key: TEST_KEY, cert: TEST_CERT });
  const server = createHttpsServer(
    {
      key: TEST_KEY,
      cert: TEST_CERT,
      SNICallback: (name, cb) => {
        sni.push(name);
        cb(null, context);
      },
    },
    (_req, res) => res.end('reached'),
  );
  server.on('connection', () => connections++);
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  try {
    // tracker.test exists only in the injected resolver; the certificate is self-signed, so
    // the request must fail verification (it is not turned off) after SNI named tracker.test.
    await assert.rejects(
      guardedHttpGet(`https://tracker.test:${port}/announce`, {
        resolve: tableResolver({ 'tracker.test': ['127.0.0.1'] }),
        refusal: (d) => (d.port === port ? null : 'not the test server'),
        timeoutMs: 5000,
      }),
      (err: unknown) => isCode('NET_HTTP_FAILED')(err) && /certificate/i.test((err as Error).message),
    );
    assert.deepEqual(sni, ['tracker.test']);
    assert.equal(connections, 1);
    await assert.rejects(
      guardedHttpGet(`https://0x7f.1:${port}/`, { timeoutMs: 5000 }),
      isCode('NET_DESTINATION_REFUSED'),
    );
    assert.equal(connections, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
