// Python's `json.dumps` in TypeScript (test-only): what Truedy's early backend signed.
//
// The early backend (docs/truedy-api.md, "Webhooks") signs `f"{ts}.{json.dumps(payload, sort_keys=True)}"`, i.e. with
// Python's defaults: separators `', '` and `': '`, ensure_ascii=True (every character outside
// U+0020..U+007E becomes `\uXXXX`, lowercase hex, astral characters as surrogate pairs),
// allow_nan=True, keys sorted by code point. Numbers follow Python's `int.__repr__` / `float.__repr__`.
//
// A JS number has no int/float distinction: an integral number is printed as a Python int (`1`),
// any other as a Python float (`0.5`, `1e-05`). Wrap a value in `PyFloat` to print it as a float
// (`new PyFloat(1)` → `1.0`); `parsePythonJson` does that for number literals with `.`, `e` or `E`,
// as Python's `json.loads` would, and keeps long integers exact as bigint.

/** A number Python holds as a float (e.g. `1.0`, which JSON.parse turns into 1). */
export class PyFloat {
	constructor(readonly value: number) {}
}

export interface PythonDumpsOptions {
	/** `sort_keys` (default false). */
	sortKeys?: boolean;
	/** `ensure_ascii` (default true). */
	ensureAscii?: boolean;
	/** `separators` (default [', ', ': ']). */
	separators?: [item: string, key: string];
}

/** `json.dumps(value, sort_keys=…, ensure_ascii=…, separators=…)` with Python's defaults otherwise. */
export function pythonJsonDumps(value: unknown, opts: PythonDumpsOptions = {}): string {
	const [itemSep, keySep] = opts.separators ?? [', ', ': '];
	const encodeString = opts.ensureAscii === false ? encodeUnicode : encodeAscii;
	const encode = (v: unknown): string | undefined => {
		if (v === null) return 'null';
		if (v === true) return 'true';
		if (v === false) return 'false';
		if (typeof v === 'string') return encodeString(v);
		if (typeof v === 'bigint') return v.toString();
		if (typeof v === 'number') return Number.isInteger(v) ? pyInt(v) : pyFloat(v);
		if (v instanceof PyFloat) return pyFloat(v.value);
		if (typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol')
			return undefined;
		if (Array.isArray(v)) return '[' + v.map((item) => encode(item) ?? 'null').join(itemSep) + ']';
		if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
			return encode((v as { toJSON(): unknown }).toJSON());
		const entries = Object.entries(v as Record<string, unknown>).filter(
			([, item]) => encode(item) !== undefined,
		);
		if (opts.sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
		return (
			'{' + entries.map(([k, item]) => encodeString(k) + keySep + encode(item)).join(itemSep) + '}'
		);
	};
	return encode(value) ?? 'null';
}

/** `json.dumps(value, sort_keys=True)`: the early backend's signed text. */
export function pythonSortedDumps(value: unknown): string {
	return pythonJsonDumps(value, { sortKeys: true });
}

/** Python compares str by code point; JS `<` compares UTF-16 code units (they differ above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
	const x = Array.from(a);
	const y = Array.from(b);
	for (let i = 0; i < Math.min(x.length, y.length); i++) {
		const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
		if (d !== 0) return d;
	}
	return x.length - y.length;
}

const SHORT_ESCAPES: Record<string, string> = {
	'"': '\\"',
	'\\': '\\\\',
	'\b': '\\b',
	'\f': '\\f',
	'\n': '\\n',
	'\r': '\\r',
	'\t': '\\t',
};

const hex4 = (unit: number) => '\\u' + unit.toString(16).padStart(4, '0');

/** `py_encode_basestring_ascii`: `"`, `\` and the short escapes; every other code unit outside ' '..'~' as \uXXXX. */
function encodeAscii(s: string): string {
	let out = '"';
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		const unit = s.charCodeAt(i);
		if (SHORT_ESCAPES[c]) out += SHORT_ESCAPES[c];
		else if (unit < 0x20 || unit > 0x7e) out += hex4(unit);
		else out += c;
	}
	return out + '"';
}

/** `py_encode_basestring` (ensure_ascii=False): only `"`, `\` and control characters are escaped. */
function encodeUnicode(s: string): string {
	let out = '"';
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		const unit = s.charCodeAt(i);
		if (SHORT_ESCAPES[c]) out += SHORT_ESCAPES[c];
		else if (unit < 0x20) out += hex4(unit);
		else out += c;
	}
	return out + '"';
}

function pyInt(n: number): string {
	return Object.is(n, -0) ? '0' : BigInt(n).toString();
}

/** `float.__repr__`: the shortest round-trip digits; exponent form when the exponent is < -4 or >= 16. */
export function pyFloat(n: number): string {
	if (Number.isNaN(n)) return 'NaN';
	if (n === Infinity) return 'Infinity';
	if (n === -Infinity) return '-Infinity';
	const sign = n < 0 || Object.is(n, -0) ? '-' : '';
	const [mantissa, expText] = Math.abs(n).toExponential().split('e');
	const digits = mantissa.replace('.', '');
	const exp = Number(expText);
	if (exp < -4 || exp >= 16) {
		const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
		return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
	}
	const point = exp + 1; // digits before the decimal point
	if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
	if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
	return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * `json.loads` as far as `json.dumps` can tell: number literals with `.`, `e` or `E` become PyFloat,
 * integers beyond 2^53 stay exact (bigint); everything else as JSON.parse. Throws on invalid JSON.
 */
export function parsePythonJson(text: string): unknown {
	JSON.parse(text); // validates, with JSON.parse's error messages
	let i = 0;
	const ws = () => {
		while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
	};
	const value = (): unknown => {
		ws();
		const c = text[i];
		if (c === '{') {
			i++;
			const out: Record<string, unknown> = {};
			ws();
			if (text[i] === '}') return (i++, out);
			for (;;) {
				ws();
				const key = string();
				ws();
				i++; // ':'
				const v = value();
				Object.defineProperty(out, key, {
					value: v,
					enumerable: true,
					writable: true,
					configurable: true,
				}); // '__proto__' too
				ws();
				if (text[i++] === '}') return out;
			}
		}
		if (c === '[') {
			i++;
			const out: unknown[] = [];
			ws();
			if (text[i] === ']') return (i++, out);
			for (;;) {
				out.push(value());
				ws();
				if (text[i++] === ']') return out;
			}
		}
		if (c === '"') return string();
		const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(
			text.slice(i, i + 400),
		)!;
		i += m[0].length;
		if (m[0] === 'true') return true;
		if (m[0] === 'false') return false;
		if (m[0] === 'null') return null;
		if (m[1] !== undefined || m[2] !== undefined) return new PyFloat(Number(m[0]));
		const n = Number(m[0]);
		return Number.isSafeInteger(n) ? n : BigInt(m[0]);
	};
	const string = (): string => {
		const start = i;
		i++; // opening quote
		while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
		i++;
		return JSON.parse(text.slice(start, i)) as string;
	};
	return value();
}
