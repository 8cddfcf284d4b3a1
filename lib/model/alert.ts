// Alert rules, their destinations and the events they fire, as the API, the evaluator and the delivery jobs speak
// of them. How they are stored is lib/db/alerts.ts's business.

export const ALERT_KINDS = ['new_post', 'volume_spike', 'negative_share_spike'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const DESTINATION_TYPES = ['webhook', 'slack', 'email'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export interface Destination {
  /** Stable for the life of the destination: a delivery job names it by this id. */
  id: string;
  type: DestinationType;
  /** A webhook's address; '' for email. */
  url: string;
  /** The HMAC key of a generic webhook; a Slack-compatible webhook's secret is its URL. */
  secret: string | null;
  /** Email: the recipients (sent through SMTP_URL). */
  to?: string[];
}

export interface NewPostParams {
  /** Any of these words or phrases, case-insensitive, in the title or text; empty: any post. */
  keywords: string[];
  /** Only posts with one of these labels; empty: any. */
  sentiments: ('negative' | 'neutral' | 'positive')[];
  /** Only posts rated at most this (Trustpilot stars, votes elsewhere); null: any. */
  maxRating: number | null;
}

export interface SpikeRuleParams {
  windowMinutes: number;
  baselineDays: number;
  k: number;
  /** volume_spike: fewer posts are never a spike. */
  minCount: number;
  /** negative_share_spike: a window with fewer posts is never judged. */
  minVolume: number;
  minBaselineDays: number;
}

export type AlertParams = NewPostParams | SpikeRuleParams;

export interface AlertRule {
  id: string;
  name: string;
  query: string | null;
  sources: string[] | null;
  kind: AlertKind;
  params: AlertParams;
  coolDownMinutes: number;
  destinations: Destination[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastEventAt: Date | null;
  checkedWindow: Date | null;
}

export interface AlertEvent {
  id: string;
  ruleId: string | null;
  ruleName: string;
  kind: AlertKind;
  firedAt: Date;
  windowStart: Date | null;
  /** What fired it: the window's counts, the baseline's mean and σ, the threshold (lib/alerts/spike.ts), or the match. */
  evidence: Record<string, unknown>;
  postIds: string[];
  test: boolean;
}

/** A post as an alert tells of it. */
export interface AlertPost {
  id: string;
  source: string;
  query: string;
  url: string | null;
  author: string | null;
  title: string | null;
  text: string;
  rating: number | null;
  sentiment: 'negative' | 'neutral' | 'positive' | null;
  publishedAt: Date;
}
