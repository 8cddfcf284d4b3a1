// One post as the feed and the overview show it. Every field came from an upstream: JSX escapes it, the link is
// kept only when it is http(s), and it opens without telling the other site where it came from.
import type { StoredPost } from '../db/posts.ts';
import { excerpt, isoTime, safeHref, utc } from './format.ts';

export function PostItem({ post, full = true }: { post: StoredPost; full?: boolean }) {
  const href = safeHref(post.url);
  const label = post.sentiment?.label ?? null;
  const heading = post.title?.trim() || excerpt(post.text, 90) || '(no text)';
  return (
    <article class={`post ${label ? `sentiment-${label}` : ''}`} data-post-id={post.id}>
      <h3 class="post-title">
        {href ? <a href={href} rel="noopener noreferrer" class="post-link">{heading}</a> : <span>{heading}</span>}
      </h3>
      <p class="post-meta">
        <span class="source">{post.source}</span>
        {' · '}
        <span class="author">{post.author ?? 'unknown author'}</span>
        {' · '}
        <time datetime={isoTime(post.published_at)}>{utc(post.published_at)}</time>
        {post.rating !== null ? <>{' · '}<span class="rating">{`rating ${post.rating}`}</span></> : null}
        {' · '}
        <span class={`badge ${label ?? 'unscored'}`}>{label ?? 'unscored'}</span>
        {' · '}
        <span class="query">{`query “${post.query}”`}</span>
      </p>
      {full && post.title?.trim() && post.text ? <p class="post-text">{excerpt(post.text, 600)}</p> : null}
      {full && post.reply ? (
        <blockquote class="reply">
          <p class="reply-label">{`The company replied${post.reply.published_at ? ` on ${utc(post.reply.published_at)}` : ''}:`}</p>
          <p>{excerpt(post.reply.text, 600)}</p>
        </blockquote>
      ) : null}
    </article>
  );
}
