import type { TorrentView } from './daemon-types.js';

/**
 * Each torrent's view as JSON text, kept with the view it was made from and made again only
 * when a field differs (compared one by one: the record's labels, limits and goals are the
 * record's own objects, replaced on every write, so identity tells a change). A list of 1,000
 * mostly idle torrents is then 1,000 cheap comparisons and one join instead of 1,000
 * `JSON.stringify` calls: GET /api/torrents, the Transmission RPC and the event stream's
 * change detection share it.
 */
export class ViewJson {
  private readonly entries = new Map<string, { view: TorrentView; json: string }>();

  /** The JSON text of `view`; the same string object as last time when nothing changed. */
  of(view: TorrentView): string {
    const last = this.entries.get(view.infoHash);
    if (last && isSameView(last.view, view)) return last.json;
    const json = JSON.stringify(view);
    this.entries.set(view.infoHash, { view, json });
    return json;
  }

  forget(infoHash: string): void {
    this.entries.delete(infoHash);
  }
}

function isSameView(a: TorrentView, b: TorrentView): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const key in y) if (x[key] !== y[key]) return false;
  return true;
}
