import { ApiError } from '../errors.ts';

export function isJsonType(type: string | null | undefined): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(type ?? '');
}

/** The body as JSON, or a 415 when it is not sent as JSON and a 400 when it does not parse. */
export async function readJson(request: Request): Promise<unknown> {
  if (!isJsonType(request.headers.get('content-type'))) {
    throw new ApiError(415, 'unsupported_media_type', 'send the body as JSON with the header content-type: application/json');
  }
  const text = await request.text();
  // A POST that needs no body may come with none; the route decides whether that will do.
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
