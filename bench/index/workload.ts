/**
 * The index benchmark's workload: N synthetic entries (deterministic, Zipf-distributed
 * realistic words) and a deterministic mix of searches of each kind the issue names.
 * A helper module of bench/index/index.ts (no benchmark of its own).
 */
import type { EntryBody } from '../../src/index-server/entry.js';
import type { SearchFilters } from '../../src/index-server/store.js';
import { toHex } from '../../src/util/bytes.js';
import { seededRandom } from '../../src/util/random.js';

const WORDS = `linux ubuntu debian fedora arch kernel server desktop edition release final beta alpha live
install image iso disk boot usb mirror archive backup dataset open source library science
physics chemistry biology math lecture course university notes slides video audio music album
concert live studio remaster deluxe vinyl flac mp3 lossless soundtrack original score symphony
orchestra piano guitar jazz blues rock metal folk classical opera ambient electronic techno house
film movie documentary series season episode complete collection box set director cut extended
uncut subtitles english french german spanish italian japanese korean chinese russian dubbed
1080p 720p 2160p 4k hdr x264 x265 hevc av1 aac opus webm mkv mp4 avi ebook pdf epub novel
fiction history biography cookbook manual guide handbook tutorial programming python rust go
javascript typescript java haskell compiler database network security cryptography algorithms
game patch mod map pack texture sound effects sample drum loops photos wallpaper nature space
nasa hubble telescope mars moon earth ocean forest mountain river city night winter summer
spring autumn public domain creative commons archive org gutenberg wikipedia dump openstreetmap
planet weather climate census statistics survey report paper thesis journal proceedings volume
part chapter one two three four five six seven eight nine ten first second third new old
classic modern ultimate essential best greatest hits anthology edition remastered version`.split(/\s+/);
const EXT = ['mkv', 'mp4', 'flac', 'mp3', 'iso', 'pdf', 'epub', 'zip', 'tar', 'txt', 'jpg', 'csv'];
const CATEGORIES = ['video', 'audio', 'software', 'books', 'images', 'data', 'games', 'other'];

/** Zipf-ish word picker: rank r has weight 1/(r+1). */
function wordPicker(rand: ReturnType<typeof seededRandom>): () => string {
  const cum: number[] = [];
  let total = 0;
  for (let r = 0; r < WORDS.length; r++) {
    total += 1 / (r + 1);
    cum.push(total);
  }
  return () => {
    const x = rand.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return WORDS[lo]!;
  };
}

export function syntheticEntries(count: number, seed = 1): () => EntryBody | null {
  const rand = seededRandom(seed);
  const word = wordPicker(rand);
  const words = (n: number): string[] => Array.from({ length: n }, word);
  const publishers = Array.from({ length: 64 }, (_, i) => toHex(seededRandom(1000 + i).bytes(32)));
  let i = 0;
  return () => {
    if (i >= count) return null;
    const n = i++;
    const title = words(3 + rand.int(4)).join(' ');
    const name = `${title.replaceAll(' ', '.')}.${n}`;
    const files = Array.from({ length: 1 + rand.int(5) }, (_, k) => ({
      path: [name, `${words(2).join('_')}_${k}.${EXT[rand.int(EXT.length)]}`],
      length: 1 + rand.int(2 ** 31),
    }));
    return {
      infoHash: toHex(rand.bytes(20)),
      infoHashV2: null,
      name,
      files,
      trackers: ['udp://tracker.example.org:1337/announce'],
      title,
      description: words(8 + rand.int(13)).join(' '),
      tags: words(1 + rand.int(3)),
      category: CATEGORIES[rand.int(CATEGORIES.length)]!,
      seq: 1,
      publisher: publishers[rand.int(publishers.length)]!,
    };
  };
}

export interface SearchCase {
  readonly kind: string;
  readonly q: string;
  readonly filters: SearchFilters;
}

export function searchMix(n: number, seed = 7): SearchCase[] {
  const rand = seededRandom(seed);
  const word = wordPicker(rand);
  const rare = (): string => WORDS[WORDS.length - 1 - rand.int(60)]!;
  const kinds = [
    (): SearchCase => ({ kind: 'oneWord', q: word(), filters: {} }),
    (): SearchCase => ({ kind: 'twoWords', q: `${word()} ${word()}`, filters: {} }),
    (): SearchCase => ({ kind: 'rareCommon', q: `${rare()} ${word()}`, filters: {} }),
    (): SearchCase => ({ kind: 'phrase', q: `"${word()} ${word()}"`, filters: {} }),
    (): SearchCase => ({
      kind: 'category',
      q: `${word()} ${rare()}`,
      filters: { category: CATEGORIES[rand.int(8)]! },
    }),
    (): SearchCase => ({ kind: 'exclusion', q: `${word()} ${word()} -${word()}`, filters: {} }),
    (): SearchCase => ({
      kind: 'sizeFilter',
      q: `${rare()} ${rare()}`,
      filters: { minSizeBytes: 1_000_000 },
    }),
  ];
  return Array.from({ length: n }, () => kinds[rand.int(kinds.length)]!());
}
