// RSS 2.0 and Atom feeds, read with cheerio in XML mode. Only what feed-based sources map is read; every text
// value is trimmed because some feeds (and captures re-serialised by prettifiers) pad elements with newlines.
import type { CheerioAPI } from 'cheerio';
import { cheerio } from './cheerio.ts';
import { toDate } from './values.ts';

export interface FeedEntry {
  /** RSS <guid>, Atom <id>. */
  id: string | null;
  link: string | null;
  title: string | null;
  /** RSS <author> or <dc:creator>, Atom <author><name>. */
  author: string | null;
  publishedAt: Date | null;
  updatedAt: Date | null;
  /** The entry's body as HTML (RSS <content:encoded> or <description>, Atom <content> or <summary>). */
  html: string | null;
  /** RSS <source url="...">: the site an aggregator took the item from. */
  source: { name: string | null; url: string | null } | null;
  categories: { term: string; label: string | null }[];
}

export interface Feed {
  format: 'rss' | 'atom';
  title: string | null;
  language: string | null;
  entries: FeedEntry[];
}

type Document = CheerioAPI;
/** What `children()` returns; cheerio does not export its element type by name. */
type Node = ReturnType<ReturnType<Document['root']>['children']>;

/** The feed in `xml`, or null when the document is not an RSS 2.0 or Atom feed (an HTML page, say). */
export function parseFeed(xml: string): Feed | null {
  const $ = cheerio().load(xml, { xml: true });
  const root = $.root().children().first();
  const rootName = root.get(0)?.tagName;
  if (rootName === 'rss') return readRss($, named(root, 'channel').first());
  if (rootName === 'feed') return readAtom($, root);
  return null;
}

function readRss($: Document, channel: Node): Feed {
  const entries = named(channel, 'item').toArray().map((element): FeedEntry => {
    const item = $(element);
    const source = named(item, 'source').first();
    return {
      id: childText(item, 'guid'),
      link: childText(item, 'link'),
      title: childText(item, 'title'),
      author: childText(item, 'dc:creator') ?? childText(item, 'author'),
      publishedAt: toDate(childText(item, 'pubDate') ?? childText(item, 'dc:date')),
      updatedAt: null,
      html: childText(item, 'content:encoded') ?? childText(item, 'description'),
      source: source.length > 0 ? { name: clean(source.text()), url: clean(source.attr('url')) } : null,
      categories: named(item, 'category').toArray().flatMap((category) => {
        const term = clean($(category).text());
        return term ? [{ term, label: null }] : [];
      }),
    };
  });
  return { format: 'rss', title: childText(channel, 'title'), language: childText(channel, 'language'), entries };
}

function readAtom($: Document, feed: Node): Feed {
  const entries = named(feed, 'entry').toArray().map((element): FeedEntry => {
    const entry = $(element);
    const updatedAt = toDate(childText(entry, 'updated'));
    return {
      id: childText(entry, 'id'),
      link: atomLink(entry),
      title: childText(entry, 'title'),
      author: childText(named(entry, 'author').first(), 'name'),
      publishedAt: toDate(childText(entry, 'published')) ?? updatedAt,
      updatedAt,
      html: atomHtml(named(entry, 'content').first()) ?? atomHtml(named(entry, 'summary').first()),
      source: null,
      categories: named(entry, 'category').toArray().flatMap((category) => {
        const term = clean(category.attribs.term);
        return term ? [{ term, label: clean(category.attribs.label) }] : [];
      }),
    };
  });
  return { format: 'atom', title: childText(feed, 'title'), language: clean(feed.attr('xml:lang')), entries };
}

/** The alternate link: the one with rel="alternate" or no rel at all. */
function atomLink(entry: Node): string | null {
  const links = named(entry, 'link').toArray();
  const alternate = links.find((link) => (link.attribs.rel ?? 'alternate') === 'alternate') ?? links[0];
  return clean(alternate?.attribs.href);
}

/** type="html" holds escaped HTML (the parser unescapes it), type="xhtml" a <div> of markup, type="text" plain text. */
function atomHtml(element: Node): string | null {
  if (element.length === 0) return null;
  const type = element.attr('type') ?? 'text';
  if (type === 'xhtml') return clean(element.children().first().html());
  const value = clean(element.text());
  return type === 'text' && value ? value.replace(/&/g, '&amp;').replace(/</g, '&lt;') : value;
}

/** Children by exact tag name: CSS selectors would need escaping for prefixed names such as dc:creator. */
function named(parent: Node, name: string): Node {
  return parent.children().filter((_, element) => element.tagName === name);
}

function childText(parent: Node, name: string): string | null {
  const child = named(parent, name).first();
  return child.length > 0 ? clean(child.text()) : null;
}

function clean(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
