// Progressive enhancement only: every page works without this file. It follows a running job's progress over
// Server-Sent Events and writes what arrives as text (never as HTML).
'use strict';

function followJob(section) {
  const url = section.getAttribute('data-job-live');
  if (!url || typeof EventSource !== 'function') return;
  const field = (name) => section.querySelector(`[data-field="${name}"]`);
  const live = field('live');
  const source = new EventSource(url);
  const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  if (live) live.textContent = 'Following live…';
  source.addEventListener('job', (event) => {
    const state = JSON.parse(event.data);
    const status = field('status');
    if (status) {
      status.textContent = state.status;
      status.className = `badge ${state.status}`;
    }
    const set = (name, text) => {
      const el = field(name);
      if (el) el.textContent = text;
    };
    set('attempts', `${state.attempts}/${state.maxAttempts}`);
    set('found', number.format(state.found));
    set('inserted', number.format(state.inserted));
    set('pages', `${state.pagesDone}${state.pagesPlanned ? ` of ${state.pagesPlanned}` : ''}`);
    set('error', state.error ? `${state.error.code}: ${state.error.message}` : '—');
    const progress = field('progress');
    if (progress && state.pagesPlanned) {
      progress.max = state.pagesPlanned;
      progress.value = state.pagesDone;
    }
    if (state.final) {
      source.close();
      // The buttons that fit a finished job (retry, none to cancel) come with the page itself.
      if (live) live.textContent = `Finished: ${state.status}. Reloading…`;
      setTimeout(() => window.location.reload(), 800);
    }
  });
  source.addEventListener('gone', () => {
    source.close();
    if (live) live.textContent = 'This job no longer exists.';
  });
  source.onerror = () => {
    if (live && source.readyState === EventSource.CLOSED) live.textContent = 'Live updates stopped; reload the page.';
  };
}

document.addEventListener('DOMContentLoaded', () => {
  for (const section of document.querySelectorAll('[data-job-live]')) followJob(section);
});
