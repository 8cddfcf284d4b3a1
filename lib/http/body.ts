import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { permanent } from '../errors.ts';

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

/** The body with its content-encoding undone; a body that does not match it is a permanent bad response. */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, url: URL): Promise<Buffer> {
  // Codings are listed in the order they were applied, so they are undone from the last.
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  let bytes = body;
  for (const coding of codings.reverse()) {
    try {
      if (coding === 'gzip' || coding === 'x-gzip') bytes = await gunzip(bytes);
      else if (coding === 'br') bytes = await brotli(bytes);
      // "deflate" should be zlib-wrapped, but some servers send raw deflate.
      else if (coding === 'deflate') bytes = await inflate(bytes).catch(() => inflateRaw(bytes));
      else throw new Error(`unsupported content-encoding "${coding}"`);
    } catch (error) {
      throw permanent('upstream_bad_response', `${url.host}${url.pathname} sent a body that could not be decoded (${coding}): ${(error as Error).message}`, error);
    }
  }
  return bytes;
}
