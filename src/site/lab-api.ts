/**
 * Browser side of the lab HTTP API. The server identifies the learner by an
 * HttpOnly cookie set by `POST /api/lab`, so requests only need credentials.
 */

/** What the server says about the learner's lab. */
export interface LabInfo {
	id: string;
	/** `ready` once the toolbox pod accepts a terminal; `error` carries `message`. */
	state: 'pending' | 'starting' | 'ready' | 'error' | (string & {});
	namespace: string;
	message?: string;
}

// The grading contract is shared with the server; a type-only import ships no code to browsers.
import type { CheckResult, GradeResult } from '../graders/types.ts';
export type { CheckResult, GradeResult };

/** An HTTP failure with the server's own explanation when it gave one. */
export class LabApiError extends Error {
	readonly status: number;
	constructor(message: string, status: number) {
		super(message);
		this.status = status;
	}
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
	const response = await fetch(path, {
		method,
		credentials: 'same-origin',
		headers: body === undefined ? {} : { 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal,
	});
	const text = await response.text();
	let data: unknown;
	try {
		data = text ? JSON.parse(text) : undefined;
	} catch {
		data = undefined;
	}
	if (!response.ok) {
		const detail = (data as { message?: string; error?: string } | undefined) ?? {};
		throw new LabApiError(detail.message ?? detail.error ?? `${method} ${path}: HTTP ${response.status}`, response.status);
	}
	return data as T;
}

/** Create the learner's lab, or return the existing one (idempotent). */
export const createLab = (signal?: AbortSignal) => request<LabInfo>('POST', '/api/lab', {}, signal);
export const getLab = (signal?: AbortSignal) => request<LabInfo>('GET', '/api/lab', undefined, signal);
export const resetLab = () => request<LabInfo | undefined>('POST', '/api/lab/reset', {});
export const gradeExercise = (exercise: string, locale: string) =>
	request<GradeResult>('POST', '/api/lab/grade', { exercise, locale });

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve, reject) => {
		const timer = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
	});

/**
 * Ensure a lab exists and wait until it is ready, reporting each state seen.
 * Throws LabApiError when the server reports `error`.
 */
export async function waitForLab(onProgress: (lab: LabInfo) => void, signal?: AbortSignal): Promise<LabInfo> {
	let lab = await createLab(signal);
	for (let delay = 500; ; delay = Math.min(delay * 1.5, 3000)) {
		onProgress(lab);
		if (lab.state === 'ready') return lab;
		if (lab.state === 'error') throw new LabApiError(lab.message ?? 'lab error', 500);
		await sleep(delay, signal);
		lab = await getLab(signal);
	}
}
