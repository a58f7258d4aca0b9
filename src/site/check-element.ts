/**
 * `<kubelab-check exercise="job/echo">`: a Check button that asks the lab
 * server to grade one exercise and lists each check with its message and
 * hint. Infrastructure failures ("the lab could not be checked") are shown
 * apart from the learner's own failures.
 *
 * Markup it expects (rendered by Check.astro):
 *   <kubelab-check exercise="…"><button data-check>…</button><div data-result></div></kubelab-check>
 * After grading, `data-state` is `passed`, `failed` or `infra-error`.
 */
import { toUiLocale, useUi } from '../i18n/ui/index.ts';
import { gradeExercise, type CheckResult, type GradeResult } from './lab-api.ts';

export class KubelabCheck extends HTMLElement {
	readonly locale = toUiLocale(document.documentElement.lang);
	readonly t = useUi(this.locale);
	/** The last result, for tests and other scripts. */
	result?: GradeResult;
	#onReset = () => this.clear();

	get exercise(): string {
		return this.getAttribute('exercise') ?? '';
	}

	connectedCallback(): void {
		this.button?.addEventListener('click', () => void this.check());
		window.addEventListener('kubelab:lab-reset', this.#onReset);
	}

	disconnectedCallback(): void {
		window.removeEventListener('kubelab:lab-reset', this.#onReset);
	}

	get button(): HTMLButtonElement | null {
		return this.querySelector<HTMLButtonElement>('[data-check]');
	}

	/** Grade the exercise and render the result. */
	async check(): Promise<GradeResult | undefined> {
		const button = this.button;
		if (button?.disabled) return;
		if (button) {
			button.disabled = true;
			button.setAttribute('aria-busy', 'true');
			button.textContent = this.t('check.running');
		}
		this.dataset.state = 'running';
		try {
			this.result = await gradeExercise(this.exercise, this.locale);
			this.#render(this.result);
			return this.result;
		} catch (error) {
			this.result = undefined;
			this.#renderInfraError(error instanceof Error ? error.message : String(error));
		} finally {
			if (button) {
				button.disabled = false;
				button.removeAttribute('aria-busy');
				button.textContent = this.t('check.again');
			}
		}
	}

	/** Forget the last result (after a lab reset). */
	clear(): void {
		this.result = undefined;
		delete this.dataset.state;
		this.#resultBox().replaceChildren();
		if (this.button) this.button.textContent = this.t('check.button');
	}

	#resultBox(): HTMLElement {
		return this.querySelector<HTMLElement>('[data-result]') ?? this;
	}

	#render(result: GradeResult): void {
		const state = result.infrastructureError ? 'infra-error' : result.passed ? 'passed' : 'failed';
		this.dataset.state = state;
		const box = this.#resultBox();
		box.replaceChildren();

		const summary = el('p', 'kl-check-summary');
		summary.dataset.summary = state;
		if (result.infrastructureError) {
			summary.append(el('strong', '', this.t('check.infra')), ' ', this.t('check.infraDetail'));
		} else {
			summary.append(
				el('strong', '', result.passed ? this.t('check.passed') : this.t('check.failed')),
				' · ',
				this.t('check.score', { score: result.score, maxScore: result.maxScore }),
				' · ',
				this.t('check.duration', { seconds: (result.durationMs / 1000).toFixed(1) }),
			);
		}
		box.append(summary);

		const list = el('ul', 'kl-check-list');
		for (const check of result.checks) list.append(this.#renderCheck(check));
		box.append(list);
	}

	#renderCheck(check: CheckResult): HTMLElement {
		const state = check.infrastructureError ? 'infra-error' : check.passed ? 'passed' : 'failed';
		const item = el('li', 'kl-check-item');
		item.dataset.check = check.id;
		item.dataset.state = state;
		const icon = el('span', 'kl-check-icon', state === 'passed' ? '✓' : state === 'failed' ? '✗' : '!');
		icon.setAttribute('aria-label', state === 'passed' ? this.t('check.passed') : state === 'failed' ? this.t('check.failed') : this.t('check.checkInfra'));
		const body = el('div', 'kl-check-body');
		body.append(el('div', 'kl-check-title', check.title), el('div', 'kl-check-message', check.message));
		if (check.hint && !check.passed) {
			const hint = el('div', 'kl-check-hint');
			hint.append(el('strong', '', `${this.t('check.hint')}: `), check.hint);
			body.append(hint);
		}
		item.append(icon, body);
		return item;
	}

	#renderInfraError(message: string): void {
		this.dataset.state = 'infra-error';
		const summary = el('p', 'kl-check-summary');
		summary.dataset.summary = 'infra-error';
		summary.append(el('strong', '', this.t('check.infra')), ' ', this.t('check.infraDetail'));
		this.#resultBox().replaceChildren(summary, el('p', 'kl-check-detail', message));
	}
}

/** Create an element with a class and optional text (never HTML: messages come from the server). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (className) node.className = className;
	if (text !== undefined) node.textContent = text;
	return node;
}

customElements.define('kubelab-check', KubelabCheck);
