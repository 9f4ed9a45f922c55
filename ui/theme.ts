/**
 * Light and dark: the system's choice (prefers-color-scheme) unless the user picked one with the
 * toggle, kept in localStorage. The stylesheet reads `data-theme` on <html>.
 */
export type Theme = 'auto' | 'light' | 'dark';
const KEY = 'peerdrop-theme';

export function storedTheme(): Theme {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : 'auto';
  } catch {
    return 'auto';
  }
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === 'auto') delete root.dataset.theme;
  else root.dataset.theme = theme;
  try {
    if (theme === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // Private mode without storage: the choice lasts for this page only.
  }
}

export function effectiveTheme(theme: Theme): 'light' | 'dark' {
  if (theme !== 'auto') return theme;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The next theme the toggle gives: always the opposite of what is on screen. */
export function toggledTheme(theme: Theme): Theme {
  return effectiveTheme(theme) === 'dark' ? 'light' : 'dark';
}
