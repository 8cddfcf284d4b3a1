// The Alerts page's create form as the body POST /alerts takes, so the API's own checks judge it. The form holds
// the fields of every kind; only the chosen kind's parameters are sent. A number that is not one is passed on as
// the text typed, for the check to name the field.
const NUMBER = /^-?\d+(?:\.\d+)?$/;

export function ruleRequestOfForm(form: URLSearchParams): Record<string, unknown> {
  const text = (name: string) => {
    const value = form.get(name)?.trim();
    return value ? value : undefined;
  };
  const number = (name: string) => {
    const value = text(name);
    return value !== undefined && NUMBER.test(value) ? Number(value) : value;
  };
  const list = (values: string[]) => (values.length > 0 ? values : undefined);
  const kind = form.get('kind') ?? '';
  const params = kind === 'new_post'
    ? {
        keywords: list((form.get('keywords') ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '')),
        sentiments: list(form.getAll('sentiments')),
        max_rating: number('max_rating'),
      }
    : {
        window_minutes: number('window_minutes'),
        baseline_days: number('baseline_days'),
        k: number('k'),
        ...(kind === 'volume_spike' ? { min_count: number('min_count') } : kind === 'negative_share_spike' ? { min_volume: number('min_volume') } : {}),
      };
  return {
    name: form.get('name') ?? '',
    kind,
    query: text('query'),
    sources: list(form.getAll('sources')),
    params: Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)),
    cool_down_minutes: number('cool_down_minutes'),
    destinations: [{ type: form.get('destination_type') ?? '', url: form.get('destination_url') ?? '', secret: text('destination_secret') }],
  };
}
