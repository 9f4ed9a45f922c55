#!/usr/bin/python3
"""lt_client.py with encryption forced, as a "require encryption" libtorrent user runs it:
out_enc_policy and in_enc_policy forced, allowed_enc_level RC4 (no plaintext crypto method).
Same arguments and output as lt_client.py; prints ENC <settings> once the session exists.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libtorrent as lt

FORCED = {
    'out_enc_policy': lt.enc_policy.forced,
    'in_enc_policy': lt.enc_policy.forced,
    'allowed_enc_level': lt.enc_level.rc4,
}
_session = lt.session

def forced_session(settings):
    s = _session(settings)
    s.apply_settings(FORCED)
    got = s.get_settings()
    print('ENC out=%s in=%s level=%s' % (got['out_enc_policy'], got['in_enc_policy'], got['allowed_enc_level']), flush=True)
    return s

lt.session = forced_session
import lt_client  # noqa: E402  (after the patch, so its session is the forced one)

if __name__ == '__main__':
    sys.exit(lt_client.main() or 0)
