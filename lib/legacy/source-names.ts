// Source names for posts imported from the old system: its spellings of sources we also have map to ours, and any
// other becomes `legacy-<slug>`, a name no source of ours can take. The API accepts these names when listing posts.

// Spellings the old system used for sources we also have, compared with case and punctuation removed.
const SOURCE_ALIASES: Record<string, string> = {
  hackernews: 'hackernews',
  hn: 'hackernews',
  ycombinator: 'hackernews',
  stackoverflow: 'stackoverflow',
  so: 'stackoverflow',
  trustpilot: 'trustpilot',
  googlenews: 'google-news',
  gnews: 'google-news',
  reddit: 'reddit',
  github: 'github',
  gh: 'github',
  bluesky: 'bluesky',
  bsky: 'bluesky',
  lemmy: 'lemmy',
  discourse: 'discourse',
  mastodon: 'mastodon',
};

/** Our name for a source of the old system; one we do not have becomes `legacy-<slug>`, never silently one of ours. */
export function normaliseSourceName(name: string): string {
  const known = SOURCE_ALIASES[name.toLowerCase().replace(/[^a-z0-9]/g, '')];
  if (known) return known;
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return `legacy-${slug || 'unknown'}`;
}

export const MAX_LEGACY_NAME_LENGTH = 47;
export const LEGACY_NAME = /^legacy-[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether `name` is one normaliseSourceName gives to an old system's source we do not have. */
export function isLegacySourceName(name: string): boolean {
  return name.length <= MAX_LEGACY_NAME_LENGTH && LEGACY_NAME.test(name);
}
