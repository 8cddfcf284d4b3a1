import { promisify } from 'node:util';
import zlib from 'node:zlib';
import buffer from 'node:buffer';
import { type JobError, permanent } from '../errors.ts';

/** Reads at most `limit` bytes of a body and drops the rest: enough for an API's own explanation of an error. */
export async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/**
 * The whole body, refused (permanently: asking again brings the same) once it passes `limit` bytes: reading stops
 * there, so an endless or huge answer never sits in memory whole.
 */
export async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number, url: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw tooLarge(url, `more than ${limit} bytes as sent`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function tooLarge(url: URL, what: string): JobError {
  return permanent(
    'upstream_too_large',
    `${url.host}${url.pathname} answered with ${what}, over this source's body limit: if the page is real, raise MAX_BODY_BYTES (or MAX_BODY_BYTES_<SOURCE>)`,
  );
}

/**
 * The body with its content-encoding undone, decoded to at most `limit` bytes (a small gzip can expand a thousand
 * times); a body that does not match its encoding is a permanent bad response.
 */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, url: URL, limit = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  // Codings are listed in the order they were applied, so they are undone from the last.
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  let bytes = body;
  const options = { maxOutputLength: Math.min(limit, buffer.constants.MAX_LENGTH) };
  for (const coding of codings.reverse()) {
    try {
      if (coding === 'gzip' || coding === 'x-gzip') bytes = await gunzip(bytes, options);
      else if (coding === 'br') bytes = await brotli(bytes, options);
      // "deflate" should be zlib-wrapped, but some servers send raw deflate.
      else if (coding === 'deflate') bytes = await inflate(bytes, options).catch((error: NodeJS.ErrnoException) => (error.code === 'ERR_BUFFER_TOO_LARGE' ? Promise.reject(error) : inflateRaw(bytes, options)));
      else throw new Error(`unsupported content-encoding "${coding}"`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(url, `a ${coding} body that decodes to more than ${limit} bytes`);
      throw permanent('upstream_bad_response', `${url.host}${url.pathname} sent a body that could not be decoded (${coding}): ${(error as Error).message}`, error);
    }
  }
  if (bytes.length > limit) throw tooLarge(url, `more than ${limit} bytes`);
  return bytes;
}
