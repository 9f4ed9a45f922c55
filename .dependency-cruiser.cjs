/**
 * Layering rules for peerdrop (see docs/architecture.md). Each layer may import only the
 * layers listed for it; Node built-ins that do I/O are confined to the edges.
 */
const layers = {
  util: [],
  bencode: ['util'],
  metainfo: ['util', 'bencode'],
  net: ['util'],
  // MSE (BEP 8): a pure handshake core plus a Transport wrapper; net only for the Transport types.
  mse: ['util', 'net'],
  wire: ['util', 'bencode', 'metainfo'],
  swarm: ['util', 'metainfo', 'wire'],
  storage: ['util', 'bencode', 'metainfo'],
  tracker: ['util', 'net', 'bencode', 'metainfo'],
  dht: ['util', 'net', 'bencode', 'metainfo'],
  discovery: ['util', 'net', 'bencode', 'metainfo', 'wire'],
  session: [
    'util',
    'net',
    'mse',
    'bencode',
    'metainfo',
    'wire',
    'swarm',
    'storage',
    'tracker',
    'dht',
    'discovery',
  ],
  // Person-to-person transfer: PAKE, encrypted channel and rendezvous around a Session.
  handoff: ['util', 'net', 'bencode', 'metainfo', 'storage', 'dht', 'session'],
  'index-server': ['util', 'net', 'bencode', 'metainfo', 'tracker', 'storage'],
  // handoff: the web page's Send page and Receive box (routes-handoff.ts).
  daemon: [
    'util',
    'net',
    'mse',
    'bencode',
    'metainfo',
    'session',
    'index-server',
    'tracker',
    'storage',
    'handoff',
  ],
  cli: [
    'util',
    'net',
    'mse',
    'bencode',
    'metainfo',
    'wire',
    'swarm',
    'storage',
    'tracker',
    'dht',
    'discovery',
    'session',
    'index-server',
    'daemon',
    'handoff',
  ],
  testing: [
    'util',
    'net',
    'mse',
    'bencode',
    'metainfo',
    'wire',
    'swarm',
    'storage',
    'tracker',
    'dht',
    'discovery',
    'session',
  ],
};

const forbidden = Object.entries(layers).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only: ${allowed.join(', ') || 'nothing'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: '^src/([^/]+)/',
    pathNot: [`^src/(${[layer, ...allowed].join('|')})/`],
  },
}));

/** I/O built-ins and the only layers that may use them. */
const ioBuiltins = [
  { module: '^(node:)?(net|dgram|tls)$', allowedIn: ['net', 'testing'] },
  {
    module: '^(node:)?(http|https|http2)$',
    allowedIn: ['net', 'tracker/server', 'index-server', 'daemon', 'cli', 'testing'],
  },
  {
    module: '^(node:)?(fs|fs/promises)$',
    allowedIn: ['storage', 'index-server', 'daemon', 'cli', 'testing', 'session'],
  },
  { module: '^(node:)?(child_process)$', allowedIn: ['cli', 'daemon'] },
];
for (const { module, allowedIn } of ioBuiltins) {
  forbidden.push({
    name: `io-${module.replace(/\W+/g, '-')}`,
    comment: `${module} is I/O: only in src/{${allowedIn.join(',')}}`,
    severity: 'error',
    from: { path: '^src/', pathNot: allowedIn.map((p) => `^src/${p}/`) },
    to: { dependencyTypes: ['core'], path: module },
  });
}

forbidden.push(
  {
    // A cycle through `import type` only (a module naming the class that drives it) is erased
    // at compile time; runtime cycles are what break module initialisation.
    name: 'no-circular',
    severity: 'error',
    from: {},
    to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
  },
  {
    name: 'src-not-to-test',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^(test|bench|fuzz)/' },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
