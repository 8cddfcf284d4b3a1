import { ApiError } from '../errors.ts';

/** The body as JSON, or a 415 when it is not sent as JSON and a 400 when it does not parse. */
export async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'send the body as JSON with the header content-type: application/json');
  }
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
