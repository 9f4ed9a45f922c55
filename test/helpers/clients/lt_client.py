#!/usr/bin/python3
"""Drive python3-libtorrent for peerdrop's interop tests and benchmarks.

usage: lt_client.py seed|leech TORRENT SAVE_DIR PORT [--peer HOST:PORT]... [--max-seconds N]
Prints one status line per event on stdout:
  LISTENING <port>            the session is listening
  STATE <state> <progress>    every 0.5 s
  SEEDING                     all data present and verified
  DONE <seconds>              (leech) download finished, then exits 0
Exits 3 on timeout, 4 on a torrent error.
"""
import sys, time
import libtorrent as lt

def main():
    mode, torrent, save, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    peers, max_seconds, rest = [], 120.0, sys.argv[5:]
    i = 0
    while i < len(rest):
        if rest[i] == '--peer':
            h, p = rest[i + 1].rsplit(':', 1); peers.append((h.strip('[]'), int(p))); i += 2
        elif rest[i] == '--max-seconds':
            max_seconds = float(rest[i + 1]); i += 2
        else:
            raise SystemExit('unknown arg ' + rest[i])
    ses = lt.session({
        'listen_interfaces': '127.0.0.1:%d' % port,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    print('LISTENING %d' % ses.listen_port(), flush=True)
    ti = lt.torrent_info(torrent)
    h = ses.add_torrent({'ti': ti, 'save_path': save})
    start = time.time()
    connected = False
    last = 0.0
    while True:
        s = h.status()
        now = time.time()
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_error_alert):
                print('ERROR %s' % a.message(), flush=True); sys.exit(4)
        if peers and not connected and s.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
            for p in peers: h.connect_peer(p)
            connected = True
        if now - last >= 0.5:
            print('STATE %s %.4f peers=%d down=%d up=%d' % (s.state, s.progress, s.num_peers, s.download_rate, s.upload_rate), flush=True)
            last = now
        if s.is_seeding and mode == 'leech':
            print('DONE %.3f' % (now - start), flush=True)
            ses.pause(); return 0
        if s.is_seeding and mode == 'seed':
            print('SEEDING', flush=True)
            mode = 'seeding'
        if now - start > max_seconds:
            print('TIMEOUT', flush=True); sys.exit(3)
        time.sleep(0.05)

if __name__ == '__main__':
    sys.exit(main() or 0)
