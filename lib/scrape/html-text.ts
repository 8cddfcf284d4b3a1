import { cheerio } from './cheerio.ts';

const BLOCKS = 'p, div, li, blockquote, pre, h1, h2, h3, h4, h5, h6, tr, ol, ul, table';

/**
 * Visible text of an HTML fragment: tags stripped, entities decoded, <br> as a line break, block elements as
 * paragraphs separated by a blank line, runs of spaces folded. For upstreams that send post bodies as HTML.
 */
export function htmlToText(html: string | null | undefined): string {
  if (!html) return '';
  if (!/[<&]/.test(html)) return html.replace(/[ \t]+/g, ' ').trim();
  const $ = cheerio().load(html, null, false);
  $('script, style').remove();
  // Line breaks in the markup are layout, not text (except inside <pre>); only <br> and blocks break lines.
  $('*')
    .addBack()
    .contents()
    .each((_, node) => {
      if (node.type === 'text' && $(node).closest('pre').length === 0) node.data = node.data.replace(/\s+/g, ' ');
    });
  $('br').replaceWith('\n');
  $(BLOCKS).each((_, element) => {
    $(element).prepend('\n\n').append('\n\n');
  });
  return $.root()
    .text()
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Decodes HTML entities in a plain-text field (titles that upstreams send escaped, such as "&#39;"). */
export function decodeEntities(value: string | null | undefined): string {
  if (!value) return '';
  if (!value.includes('&')) return value;
  return cheerio().load(`<p>${value.replace(/</g, '&lt;')}</p>`, null, false)('p').text();
}
