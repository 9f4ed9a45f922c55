// The reference UDP tracker for bench/versus/tracker-udp.ts: npm bittorrent-tracker, UDP only.
// usage: node server.mjs PORT   → prints "LISTENING PORT" when ready.
import { Server } from 'bittorrent-tracker';

const port = Number(process.argv[2]);
const server = new Server({ udp: true, http: false, ws: false, stats: false });
server.on('error', (err) => console.error('tracker error', err.message));
server.on('warning', () => {});
server.listen(port, { udp: '127.0.0.1', udp6: '::1' }, () => console.log(`LISTENING ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
