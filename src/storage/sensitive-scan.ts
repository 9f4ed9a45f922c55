/**
 * Before a folder is shared: find what should never be shared by accident — SSH and GPG keys,
 * `.env` and credential files, cloud CLI credentials, password stores, browser profiles, mail
 * stores, wallets. Sharing is refused unless the user confirms (`--include-sensitive`, API
 * `includeSensitive`). `classifySensitive` is pure (a relative path in, a finding out); the
 * walk is bounded in entries and depth and never follows symlinks.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export type SensitiveKind =
  | 'ssh-key'
  | 'gpg-key'
  | 'env-file'
  | 'credentials'
  | 'cloud-credentials'
  | 'password-store'
  | 'browser-profile'
  | 'mail-store'
  | 'wallet'
  | 'private-key';

export interface SensitiveFinding {
  /** Relative to the scanned folder, `/`-separated. */
  readonly path: string;
  readonly kind: SensitiveKind;
  readonly reason: string;
}

interface Rule {
  readonly kind: SensitiveKind;
  readonly reason: string;
  /** Matched against the lower-cased name of one path component. */
  readonly name?: RegExp;
  /** Matched against the lower-cased `/`-joined relative path. */
  readonly path?: RegExp;
  /** A folder: everything inside is covered by one finding. */
  readonly isFolder?: boolean;
}

const RULES: readonly Rule[] = [
  { kind: 'ssh-key', name: /^\.ssh$/, isFolder: true, reason: 'an SSH folder (keys, known hosts)' },
  { kind: 'ssh-key', name: /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/, reason: 'an SSH private key' },
  { kind: 'gpg-key', name: /^\.gnupg$/, isFolder: true, reason: 'a GnuPG keyring' },
  { kind: 'gpg-key', name: /^(secring\.gpg|private-keys-v1\.d)$/, reason: 'GnuPG private keys' },
  { kind: 'gpg-key', name: /\.(asc|gpg)$/, path: /(secret|private)/, reason: 'an exported private key' },
  {
    kind: 'private-key',
    name: /\.(pem|key|p12|pfx|jks|keystore|ppk)$/,
    reason: 'a private key or certificate store',
  },
  { kind: 'env-file', name: /^\.env(\..+)?$/, reason: 'an environment file (often holds secrets)' },
  {
    kind: 'credentials',
    name: /^(\.netrc|_netrc|\.pgpass|\.my\.cnf|\.git-credentials|\.npmrc|\.pypirc|credentials(\.json|\.xml)?|secrets?\.(json|ya?ml|toml)|\.htpasswd)$/,
    reason: 'a credentials file',
  },
  { kind: 'credentials', name: /^\.docker$/, isFolder: true, reason: 'Docker credentials' },
  { kind: 'cloud-credentials', name: /^\.aws$/, isFolder: true, reason: 'AWS CLI credentials' },
  { kind: 'cloud-credentials', name: /^\.azure$/, isFolder: true, reason: 'Azure CLI credentials' },
  {
    kind: 'cloud-credentials',
    name: /^\.kube$/,
    isFolder: true,
    reason: 'Kubernetes config (cluster credentials)',
  },
  {
    kind: 'cloud-credentials',
    path: /(^|\/)\.config\/gcloud$/,
    isFolder: true,
    reason: 'Google Cloud CLI credentials',
  },
  {
    kind: 'cloud-credentials',
    name: /^(kubeconfig|application_default_credentials\.json|service[-_]account.*\.json)$/,
    reason: 'cloud credentials',
  },
  { kind: 'password-store', name: /^\.password-store$/, isFolder: true, reason: 'a pass password store' },
  {
    kind: 'password-store',
    name: /\.(kdbx|kdb|1pif|agilekeychain|opvault|keychain-db|keychain)$/,
    reason: 'a password manager database',
  },
  {
    kind: 'password-store',
    name: /^(keyrings|kwalletd|kwallet5?)$/,
    isFolder: true,
    reason: 'a desktop keyring',
  },
  {
    kind: 'browser-profile',
    path: /(^|\/)\.mozilla\/firefox$/,
    isFolder: true,
    reason: 'a Firefox profile (cookies, saved passwords)',
  },
  {
    kind: 'browser-profile',
    path: /(^|\/)\.config\/(google-chrome|chromium|bravesoftware|microsoft-edge|vivaldi|opera)$/,
    isFolder: true,
    reason: 'a browser profile (cookies, saved passwords)',
  },
  {
    kind: 'browser-profile',
    name: /^(cookies|login data|web data|logins\.json|key[34]\.db|cookies\.sqlite)$/,
    reason: 'browser cookies or saved passwords',
  },
  {
    kind: 'mail-store',
    name: /^(\.thunderbird|\.maildir|maildir|\.mutt|\.mail)$/,
    isFolder: true,
    reason: 'a mail store',
  },
  { kind: 'mail-store', name: /\.(mbox|pst|ost|eml)$/, reason: 'a mailbox file' },
  {
    kind: 'wallet',
    name: /^(wallet\.dat|.*\.wallet|keystore|electrum|\.electrum|\.bitcoin|\.ethereum|\.monero)$/,
    reason: 'a cryptocurrency wallet',
  },
];

/** What the path (relative, `/`-separated) is, if it should not be shared; null when fine. */
export function classifySensitive(relativePath: string, isFolder: boolean): SensitiveFinding | null {
  const lower = relativePath.toLowerCase();
  const name = lower.slice(lower.lastIndexOf('/') + 1);
  for (const rule of RULES) {
    if (rule.isFolder && !isFolder) continue;
    if (rule.name && !rule.name.test(name)) continue;
    if (rule.path && !rule.path.test(lower)) continue;
    return { path: relativePath, kind: rule.kind, reason: rule.reason };
  }
  return null;
}

export interface ScanOptions {
  /** Entries looked at, at most (default 200,000); the scan says when it stopped early. */
  readonly maxEntries?: number;
  readonly maxDepth?: number;
}

export interface ScanResult {
  readonly findings: readonly SensitiveFinding[];
  /** True when a limit stopped the walk before the end (then unscanned files may be sensitive). */
  readonly isTruncated: boolean;
}

/** Walk `root` (a folder or a single file) and list what looks sensitive. */
export async function scanSensitive(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const maxEntries = options.maxEntries ?? 200_000;
  const maxDepth = options.maxDepth ?? 64;
  const findings: SensitiveFinding[] = [];
  let seen = 0;
  let isTruncated = false;
  const top = await lstat(root);
  if (!top.isDirectory()) {
    const name = root.slice(root.lastIndexOf('/') + 1);
    const f = classifySensitive(name, false);
    return { findings: f ? [f] : [], isTruncated: false };
  }
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > maxDepth) {
      isTruncated = true;
      return;
    }
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (++seen > maxEntries) {
        isTruncated = true;
        return;
      }
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const isFolder = e.isDirectory();
      const found = classifySensitive(path, isFolder);
      if (found) findings.push(found);
      // A sensitive folder is one finding; a symlink is never followed (it is not shared either).
      if (isFolder && !found) await walk(join(dir, e.name), path, depth + 1);
    }
  };
  await walk(root, '', 0);
  return { findings, isTruncated };
}

/** One line per finding, for the CLI and error messages. */
export function describeFindings(findings: readonly SensitiveFinding[], max = 20): string {
  const lines = findings.slice(0, max).map((f) => `  ${f.path}: ${f.reason}`);
  if (findings.length > max) lines.push(`  … and ${findings.length - max} more`);
  return lines.join('\n');
}
