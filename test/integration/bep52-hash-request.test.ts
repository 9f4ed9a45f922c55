import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestSwarm } from '../../src/index.js';
import { MsgId } from '../../src/wire/messages.js';
import { HostilePeer } from '../helpers/hostile-peer.js';

test('a BEP 52 hash request is answered (hash reject), as the BEP requires', async (t) => {
  const swarm = await createTestSwarm({ leechers: 0, sizeBytes: 256 * 1024, files: 1 });
  t.after(() => swarm.close());
  const peer = await HostilePeer.dial(swarm.seeder.port, {
    infoHash: swarm.metainfo.infoHash!,
    pieceCount: swarm.metainfo.pieceCount,
  });
  t.after(() => peer.destroy());
  const request = {
    piecesRoot: new Uint8Array(32).fill(7),
    baseLayer: 1,
    index: 0,
    length: 2,
    proofLayers: 0,
  };
  peer.send({ id: MsgId.HashRequest, ...request });
  const answered = await peer.waitUntil(
    () => peer.received.some((r) => r.message.id === MsgId.HashReject),
    5000,
  );
  assert.ok(answered, 'a hash reject arrived');
  const reject = peer.received.find((r) => r.message.id === MsgId.HashReject)!.message as typeof request & {
    id: number;
  };
  assert.deepEqual(
    { ...reject, id: undefined, piecesRoot: [...reject.piecesRoot] },
    { ...request, id: undefined, piecesRoot: [...request.piecesRoot] },
  );
});
