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

  private lastParts: string[] = [];
  private lastBody = '{"torrents":[]}';

  /** `{"torrents":[…]}` of these views' texts; the same body as last time when none changed. */
  body(parts: readonly string[]): string {
    const last = this.lastParts;
    let isSame = parts.length === last.length;
    for (let i = 0; isSame && i < parts.length; i++) isSame = parts[i] === last[i];
    if (!isSame) {
      this.lastParts = [...parts];
      this.lastBody = `{"torrents":[${parts.join(',')}]}`;
    }
    return this.lastBody;
  }
}

/** Field by field, written out: a generic key loop was a third of a cached list's time. */
function isSameView(a: TorrentView, b: TorrentView): boolean {
  return (
    a.progress === b.progress &&
    a.state === b.state &&
    a.verifiedBytes === b.verifiedBytes &&
    a.downloadedBytes === b.downloadedBytes &&
    a.uploadedBytes === b.uploadedBytes &&
    a.downloadRate === b.downloadRate &&
    a.uploadRate === b.uploadRate &&
    a.peers === b.peers &&
    a.seeds === b.seeds &&
    a.etaSeconds === b.etaSeconds &&
    a.wantedBytes === b.wantedBytes &&
    a.name === b.name &&
    a.error === b.error &&
    a.id === b.id &&
    a.queuePosition === b.queuePosition &&
    a.seededSeconds === b.seededSeconds &&
    a.warnings === b.warnings &&
    a.downloadDir === b.downloadDir &&
    a.addedAtMs === b.addedAtMs &&
    a.labels === b.labels &&
    a.limits === b.limits &&
    a.seedGoals === b.seedGoals &&
    a.magnet === b.magnet &&
    a.totalBytes === b.totalBytes &&
    a.fileCount === b.fileCount &&
    a.knownPeers === b.knownPeers &&
    a.sources === b.sources
  );
}
