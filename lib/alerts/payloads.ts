// What a destination receives: the generic webhook's JSON (rule, event, posts with links), signed; and a
// Slack-compatible incoming-webhook body (text + blocks), which Slack, Mattermost, Rocket.Chat and Discord's
// /slack endpoints all accept.
import { createHmac } from 'node:crypto';
import type { AlertEvent, AlertPost, AlertRule } from '../model/alert.ts';

const POST_TEXT_CHARS = 500;
const SLACK_POSTS = 5;

export interface DeliveryContent {
  rule: Pick<AlertRule, 'id' | 'name' | 'kind' | 'query' | 'sources'>;
  event: AlertEvent;
  posts: AlertPost[];
}

export function webhookBody(content: DeliveryContent, deliveryId: string): string {
  const { rule, event, posts } = content;
  return JSON.stringify({
    delivery_id: deliveryId,
    summary: summaryOf(content),
    rule: { id: rule.id, name: rule.name, kind: rule.kind, query: rule.query, sources: rule.sources },
    event: {
      id: event.id,
      kind: event.kind,
      fired_at: event.firedAt.toISOString(),
      window_start: event.windowStart?.toISOString() ?? null,
      test: event.test,
      evidence: event.evidence,
      post_ids: event.postIds,
    },
    posts: posts.map((post) => ({
      id: post.id,
      source: post.source,
      query: post.query,
      url: post.url,
      author: post.author,
      title: post.title,
      text: post.text.length > POST_TEXT_CHARS ? `${post.text.slice(0, POST_TEXT_CHARS)}…` : post.text,
      rating: post.rating,
      sentiment: post.sentiment,
      published_at: post.publishedAt.toISOString(),
    })),
  });
}

export function slackBody(content: DeliveryContent): string {
  const summary = summaryOf(content);
  const shown = content.posts.slice(0, SLACK_POSTS);
  const more = content.event.postIds.length - shown.length;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${escape(content.rule.name)}*\n${escape(summary)}` } }];
  for (const post of shown) {
    const title = escape(post.title ?? firstWords(post.text));
    const link = post.url ? `<${post.url}|${title}>` : title;
    const details = [post.source, post.author, post.rating !== null ? `rating ${post.rating}` : null, post.sentiment].filter(Boolean).join(' · ');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${link}\n${escape(details)}` } });
  }
  if (more > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${more} more` }] });
  return JSON.stringify({ text: `${content.rule.name}: ${summary}`, blocks });
}

/** X-Vibe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" under the destination's secret>. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** One line that says what fired, from the event's evidence. */
export function summaryOf(content: DeliveryContent): string {
  const { event } = content;
  const e = event.evidence as Record<string, unknown>;
  const test = event.test ? 'Test event: ' : '';
  const window = typeof e.windowStart === 'string' ? ` in the ${e.windowMinutes ?? 60}-minute window from ${e.windowStart}` : '';
  if (event.kind === 'volume_spike') {
    return `${test}${e.count} posts${window}, expected ${round(e.expected)} ± ${round(e.sigma)} (fires from ${e.threshold})`;
  }
  if (event.kind === 'negative_share_spike') {
    return `${test}${e.negative} of ${e.count} posts negative (${percent(e.windowShare)})${window}, expected ${percent(e.baselineShare)} (fires from ${e.threshold} negative)`;
  }
  const n = event.postIds.length;
  return `${test}${n} new post${n === 1 ? '' : 's'} matched`;
}

const round = (value: unknown) => (typeof value === 'number' ? String(Math.round(value * 10) / 10) : 'n/a');
const percent = (value: unknown) => (typeof value === 'number' ? `${Math.round(value * 1000) / 10} %` : 'n/a');
const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const firstWords = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…` : text) || 'a post';

/** An email of the event: the summary, then each post with its link (a digest of the posts that fired it). */
export function emailMessage(content: DeliveryContent): { subject: string; text: string } {
  const summary = summaryOf(content);
  const lines = [`${content.rule.name}: ${summary}`, ''];
  for (const post of content.posts) {
    const details = [post.source, post.author, post.rating !== null ? `rating ${post.rating}` : null, post.sentiment, post.publishedAt.toISOString()].filter(Boolean).join(' · ');
    lines.push(`* ${post.title ?? firstWords(post.text)}`, `  ${details}`);
    if (post.url) lines.push(`  ${post.url}`);
    const text = post.text.length > 300 ? `${post.text.slice(0, 300)}…` : post.text;
    if (text && text !== post.title) lines.push(`  ${text.replace(/\s+/g, ' ')}`);
    lines.push('');
  }
  const more = content.event.postIds.length - content.posts.length;
  if (more > 0) lines.push(`and ${more} more (event ${content.event.id}: GET /alerts/events?rule_id=${content.rule.id})`);
  return { subject: `[vibe-tracker] ${content.rule.name}: ${summary}`.slice(0, 200), text: lines.join('\n') };
}
