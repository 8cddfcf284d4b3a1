// The /alerts routes as the API promises them; lib/api/alerts.ts serves them.
import { ApiError } from '../../errors.ts';
import { RULE_FIELDS } from './alert-rule.ts';
import { object, patchOf } from './body.ts';
import { idSegment, integerParam, opaqueParam, patternParam } from './params.ts';
import { route } from './route.ts';
import { ref } from './shapes.ts';
import { value } from './value.ts';

export const ALERT_ID = /^[1-9]\d{0,17}$/;

const alertId = {
  id: idSegment({ pattern: ALERT_ID, code: 'alert_not_found', notFound: (id) => `no alert rule with id "${id.slice(0, 64)}"`, description: 'the alert rule id' }),
};

const RULE_EXAMPLE = {
  name: '1-star reviews',
  kind: 'new_post',
  query: 'acme.com',
  params: { max_rating: 1 },
  destinations: [{ type: 'webhook', url: 'https://hooks.example.com/vibe', secret: '0123456789abcdef0123456789abcdef' }],
};

/** A whole rule: what a PATCH is checked as once it is merged with the stored rule. */
export const ruleBody = object(RULE_FIELDS, { example: RULE_EXAMPLE });

export const listAlerts = route({
  method: 'get',
  path: '/alerts',
  role: 'read',
  tag: 'alerts',
  summary: 'Every alert rule, its secrets left out',
  responses: { 200: { description: 'the rules', json: ref('AlertRuleList') } },
});

export const createAlert = route({
  method: 'post',
  path: '/alerts',
  role: 'admin',
  tag: 'alerts',
  summary: 'Create an alert rule: what it watches, when it fires, where each event goes',
  description: "The kind's parameters left out take their defaults, and the rule answered holds them all.",
  body: object(RULE_FIELDS, { example: RULE_EXAMPLE, missing: (name) => `missing_${name}` }),
  responses: { 201: { description: 'the rule', json: ref('AlertRule'), headers: { Location: '/alerts/{id}' } } },
});

export const listAlertEvents = route({
  method: 'get',
  path: '/alerts/events',
  role: 'read',
  tag: 'alerts',
  summary: 'The events the rules fired, newest first; keyset pages through `next`',
  query: {
    limit: integerParam({ min: 1, max: 200, default: 50, description: 'events a page' }),
    rule_id: patternParam({ pattern: ALERT_ID, code: 'invalid_rule_id', message: '`rule_id` must be the id of an alert rule', description: "only this rule's events" }),
    before: opaqueParam({ code: 'invalid_cursor', expected: 'the `next` value of an earlier page of GET /alerts/events', maxLength: 200, description: 'the `next` of the page before' }),
  },
  responses: { 200: { description: 'a page of events', json: ref('AlertEventPage') } },
});

export const getAlert = route({
  method: 'get',
  path: '/alerts/{id}',
  role: 'read',
  tag: 'alerts',
  summary: 'One alert rule, its secrets left out',
  path_params: alertId,
  responses: { 200: { description: 'the rule', json: ref('AlertRule') } },
});

export const updateAlert = route({
  method: 'patch',
  path: '/alerts/{id}',
  role: 'admin',
  tag: 'alerts',
  summary: 'Change an alert rule: the fields given replace its own, `params` one by one',
  description:
    'The rule as changed is checked as a new one would be. A destination given with its `id` keeps what it leaves out; `destinations` left out keeps them all. A new `kind` starts from its own default parameters.',
  path_params: alertId,
  body: patchOf(RULE_FIELDS, { example: { enabled: false }, emptyCode: 'empty_patch' }),
  responses: { 200: { description: 'the rule as changed', json: ref('AlertRule') } },
});

export const deleteAlert = route({
  method: 'delete',
  path: '/alerts/{id}',
  role: 'admin',
  tag: 'alerts',
  summary: 'Delete an alert rule; its events are kept, with no rule',
  path_params: alertId,
  responses: { 204: { description: 'deleted' } },
});

export const testAlert = route({
  method: 'post',
  path: '/alerts/{id}/test',
  role: 'admin',
  tag: 'alerts',
  summary: 'Send a sample event to every destination of the rule, or to one',
  description: 'The event is marked `test`, is sent whatever the cool-down, and is not counted in /metrics.',
  path_params: alertId,
  body: object(
    {
      destination_id: value<string | undefined>({
        codes: () => ['unknown_destination'],
        required: false,
        description: "one of the rule's destinations (GET /alerts/{id}); left out: every one",
        schema: () => ({ type: 'string', maxLength: 64 }),
        parse(raw) {
          if (raw !== undefined && typeof raw !== 'string') throw unknownDestination();
          return raw as string | undefined;
        },
      }),
    },
    { example: { destination_id: '…' }, optional: true },
  ),
  responses: { 202: { description: 'the event and its delivery jobs, pending', json: ref('AlertTest'), headers: { Location: 'the first delivery job: /jobs/{id}' } } },
  errors: ['unknown_destination'],
});

export function unknownDestination() {
  return new ApiError(400, 'unknown_destination', "`destination_id` must be the id of one of the rule's destinations (GET /alerts/{id})");
}

export const ALERT_ROUTES = [listAlerts, createAlert, listAlertEvents, getAlert, updateAlert, deleteAlert, testAlert];
