// The tests' short path to the harness the benches and the chaos suite share (scripts/harness/).
export * from '../../scripts/harness/trustpilot-upstream.ts';
