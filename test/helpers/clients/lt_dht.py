#!/usr/bin/python3
"""Two python3-libtorrent DHT nodes on loopback, for peerdrop's DHT interop test.

usage: lt_dht.py --bootstrap HOST:PORT --ports P1,P2 [--announce HEX --dir DIR] [--find HEX] [--max-seconds N]
Both sessions bootstrap only from HOST:PORT (peerdrop's node). Session 1 adds a bare magnet
of --announce (saving into DIR), so it announces it on its listen port P1 (libtorrent 2.0.8's
Python binding cannot call dht_announce: its flags type is not exported); session 2 looks up
--find (every 2 s). Settings are those of
../shared/recipes/real-clients.md "A private DHT on loopback": every node shares 127.0.0.1, so
the IP restrictions are off. Prints:
  LISTENING P1 P2            both sessions are up
  NODES N1 N2                routing table sizes, every second
  FOUND HEX HOST:PORT        a peer session 2 found for --find
Runs until --max-seconds (exit 0) or until stdin closes.
"""
import sys, time, threading
import libtorrent as lt

def settings(port, bootstrap):
    return {
        'listen_interfaces': '127.0.0.1:%d' % port,
        'enable_dht': True, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'dht_bootstrap_nodes': bootstrap,
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_prefer_verified_node_ids': False, 'dht_ignore_dark_internet': False,
        'dht_announce_interval': 5, 'allow_multiple_connections_per_ip': True,
        'alert_mask': lt.alert.category_t.all_categories,
    }

def main():
    args = sys.argv[1:]
    opts = {'--announce': None, '--find': None, '--max-seconds': '60', '--dir': '.'}
    i = 0
    while i < len(args):
        opts[args[i]] = args[i + 1]; i += 2
    ports = [int(p) for p in opts['--ports'].split(',')]
    sessions = [lt.session(settings(p, opts['--bootstrap'])) for p in ports]
    print('LISTENING %s' % ' '.join(str(s.listen_port()) for s in sessions), flush=True)
    if opts['--announce']:
        params = lt.parse_magnet_uri('magnet:?xt=urn:btih:%s' % opts['--announce'])
        params.save_path = opts['--dir']
        sessions[0].add_torrent(params)
    find = lt.sha1_hash(bytes.fromhex(opts['--find'])) if opts['--find'] else None
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    start = time.time()
    last_find = last_stats = 0.0
    nodes = [0, 0]
    found = set()
    while not stop.is_set() and time.time() - start < float(opts['--max-seconds']):
        now = time.time()
        if find and now - last_find >= 2:
            sessions[1].dht_get_peers(find); last_find = now
        if now - last_stats >= 1:
            for s in sessions: s.post_dht_stats()
            last_stats = now
        for idx, s in enumerate(sessions):
            for a in s.pop_alerts():
                if isinstance(a, lt.dht_stats_alert):
                    nodes[idx] = sum(b['num_nodes'] for b in a.routing_table) if a.routing_table else 0
                elif isinstance(a, lt.dht_get_peers_reply_alert):
                    for ep in a.peers():
                        key = '%s:%d' % (ep[0], ep[1])
                        if key not in found:
                            found.add(key)
                            print('FOUND %s %s' % (str(a.info_hash), key), flush=True)
        if now - last_stats < 0.06:
            print('NODES %d %d' % (nodes[0], nodes[1]), flush=True)
        time.sleep(0.05)
    return 0

sys.exit(main())
