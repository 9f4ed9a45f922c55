#!/usr/bin/python3
"""python3-libtorrent for bench/versus/magnet-dht.ts, on a private loopback DHT.

usage: magnet-dht-lt.py seed TORRENT DIR PORT HUB_HOST:PORT [--max-seconds N]
       magnet-dht-lt.py leech INFOHASH_HEX DIR PORT HUB_HOST:PORT [--max-seconds N]
seed: checks the data, then announces on the DHT every second (force_dht_announce) until
  stdin closes. Prints LISTENING <port>, then SEEDING once the data is verified.
leech: adds the bare magnet `magnet:?xt=urn:btih:HEX` (no tracker, no peer) and prints
  METADATA <s> and DONE <s>, seconds since just before the session was made (so the session's
  start and its DHT bootstrap count, as they do for peerdrop), then exits 0; exits 3 on timeout.
Settings: the recipe "A private DHT on loopback" in /work/shared/recipes/real-clients.md (every
node is 127.0.0.1, so libtorrent's one-node-per-IP rules are off), TCP only (uTP between two
libtorrent peers on a busy loopback crawled), no LSD/UPnP/NAT-PMP.
"""
import sys, time, threading
import libtorrent as lt

def settings(port, hub):
    return {
        'listen_interfaces': '127.0.0.1:%d' % port,
        'enable_dht': True, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'dht_bootstrap_nodes': hub,
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_prefer_verified_node_ids': False, 'dht_ignore_dark_internet': False,
        'dht_announce_interval': 5, 'allow_multiple_connections_per_ip': True,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    }

def main():
    mode, what, save, port, hub = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    max_seconds = float(sys.argv[7]) if len(sys.argv) > 7 and sys.argv[6] == '--max-seconds' else 120.0
    start = time.time()
    ses = lt.session(settings(port, hub))
    print('LISTENING %d' % ses.listen_port(), flush=True)
    if mode == 'seed':
        h = ses.add_torrent({'ti': lt.torrent_info(what), 'save_path': save})
        stop = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        seeding = False
        last = 0.0
        while not stop.is_set() and time.time() - start < max_seconds:
            ses.pop_alerts()
            if not seeding and h.status().is_seeding:
                seeding = True
                print('SEEDING', flush=True)
            if seeding and time.time() - last >= 1:
                h.force_dht_announce(); last = time.time()
            time.sleep(0.05)
        return 0
    params = lt.parse_magnet_uri('magnet:?xt=urn:btih:%s' % what)
    params.save_path = save
    h = ses.add_torrent(params)
    has_metadata = False
    while time.time() - start < max_seconds:
        ses.pop_alerts()
        s = h.status()
        if not has_metadata and s.has_metadata:
            has_metadata = True
            print('METADATA %.4f' % (time.time() - start), flush=True)
        if s.is_seeding:
            print('DONE %.4f' % (time.time() - start), flush=True)
            return 0
        time.sleep(0.01)
    return 3

sys.exit(main())
