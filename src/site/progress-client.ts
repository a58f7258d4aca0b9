/**
 * Browser side of the progress API (src/server/progress-api.ts). One
 * `GET /api/progress` per page, shared by every Check panel and the sidebar;
 * after a Check the page refreshes it and announces `kubelab:progress`.
 */
import type { ExerciseProgress } from '../store/types.ts';
import type { UiKey } from '../i18n/ui/index.ts';

export type { ExerciseProgress };

export interface ProgressInfo {
	enabled: boolean;
	mode?: string;
	learner?: { id: string; displayName: string | null } | null;
	solutionAfterFailures?: number;
	exercises: ExerciseProgress[];
}

export interface SolutionBlock {
	comment?: string;
	code: string;
}

declare global {
	interface WindowEventMap {
		'kubelab:progress': CustomEvent<ProgressInfo>;
	}
}

let current: Promise<ProgressInfo> | undefined;

async function fetchProgress(): Promise<ProgressInfo> {
	const res = await fetch('/api/progress', { credentials: 'same-origin' });
	if (!res.ok) return { enabled: false, exercises: [] };
	return (await res.json()) as ProgressInfo;
}

/** The learner's progress (fetched once per page unless `refresh`). Never throws: no server means none. */
export function getProgress(refresh = false): Promise<ProgressInfo> {
	if (!current || refresh) {
		current = fetchProgress().catch(() => ({ enabled: false, exercises: [] }));
		if (refresh) void current.then((info) => window.dispatchEvent(new CustomEvent('kubelab:progress', { detail: info })));
	}
	return current;
}

/** The server's reason, when it gave one. */
async function failure(res: Response): Promise<Error> {
	const body = (await res.json().catch(() => ({}))) as { error?: string; hint?: string };
	return new Error([body.error ?? `HTTP ${res.status}`, body.hint].filter(Boolean).join(' — '));
}

/** Reveal an exercise's reference solution (recorded as an event). */
export async function revealSolution(exercise: string, confirm: boolean): Promise<SolutionBlock[]> {
	const res = await fetch('/api/lab/solution', {
		method: 'POST',
		credentials: 'same-origin',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ exercise, confirm }),
	});
	if (!res.ok) throw await failure(res);
	return ((await res.json()) as { blocks: SolutionBlock[] }).blocks;
}

export async function setDisplayName(displayName: string): Promise<void> {
	const res = await fetch('/api/learner', {
		method: 'POST',
		credentials: 'same-origin',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ displayName: displayName || null }),
	});
	if (!res.ok) throw await failure(res);
}

/** A new id for one Check request, so a retry after a lost response is not counted twice. */
export function newRequestId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "5 min ago" in the page's language. */
export function ago(t: (key: UiKey, vars?: Record<string, string | number>) => string, iso: string, now = Date.now()): string {
	const minutes = Math.round((now - Date.parse(iso)) / 60_000);
	if (minutes < 1) return t('progress.justNow');
	if (minutes < 60) return t('progress.minutesAgo', { n: minutes });
	const hours = Math.round(minutes / 60);
	if (hours < 48) return t('progress.hoursAgo', { n: hours });
	return t('progress.daysAgo', { n: Math.round(hours / 24) });
}

/** A lesson's standing from its exercises: done (all passed), partial (some tried), or none. */
export function lessonState(exercises: string[], progress: ExerciseProgress[]): 'done' | 'partial' | undefined {
	const mine = progress.filter((p) => exercises.includes(p.exercise));
	if (mine.length === 0) return undefined;
	return exercises.every((id) => mine.some((p) => p.exercise === id && p.passed)) ? 'done' : 'partial';
}
