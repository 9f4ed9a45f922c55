/**
 * Hash routes (`#/`, `#/t/<info-hash>`, `#/add`, `#/send`…): the daemon serves one page at `/`, so a
 * reload or a bookmark of any screen needs nothing from the server.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly name: 'list' }
  | { readonly name: 'torrent'; readonly infoHash: string; readonly tab: string }
  | { readonly name: 'add' }
  | { readonly name: 'share' }
  | { readonly name: 'send' }
  | { readonly name: 'search'; readonly query: string }
  | { readonly name: 'settings' };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean);
  switch (parts[0]) {
    case 't':
      if (parts[1] && /^[0-9a-f]{40}$/i.test(parts[1]))
        return { name: 'torrent', infoHash: parts[1].toLowerCase(), tab: parts[2] ?? 'files' };
      return { name: 'list' };
    case 'add':
      return { name: 'add' };
    case 'share':
      return { name: 'share' };
    case 'send':
      return { name: 'send' };
    case 'search':
      return { name: 'search', query: new URLSearchParams(query).get('q') ?? '' };
    case 'settings':
      return { name: 'settings' };
    default:
      return { name: 'list' };
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}
